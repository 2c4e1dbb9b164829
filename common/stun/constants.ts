// STUN numbers from RFC 8489, plus the attributes affinity-tester adds.
// Our own attributes sit in the comprehension-optional range (0x8000-0xFFFF, RFC 8489
// section 14), so a STUN peer that does not know them ignores them instead of failing.

/** RFC 8489 section 9: the default port of STUN over UDP (and TCP). */
export const DEFAULT_STUN_PORT = 3478;

export const HEADER_LENGTH = 20;
export const MAGIC_COOKIE = 0x2112a442;
export const TRANSACTION_ID_LENGTH = 12;

export const MessageType = {
  BindingRequest: 0x0001,
  BindingSuccess: 0x0101,
  BindingError: 0x0111,
} as const;

export const Attribute = {
  MappedAddress: 0x0001,
  XorMappedAddress: 0x0020,
  Software: 0x8022,
  Fingerprint: 0x8028,
  /** The name of the pod that answered (UTF-8). Ours. */
  PodName: 0xcaf0,
  /** The name of the node that pod runs on (UTF-8). Ours. */
  NodeName: 0xcaf1,
  /** uint32: requests this pod has received from this session so far, this one included. Ours. */
  SessionRequestCount: 0xcaf2,
  /** Opaque bytes a client adds so the server may answer with the attributes above. Ours. */
  Padding: 0xcaff,
} as const;

/** RFC 8489 section 14.7: the CRC-32 of the message is XORed with this. */
export const FINGERPRINT_XOR = 0x5354554e;

export const Family = { IPv4: 0x01, IPv6: 0x02 } as const;
