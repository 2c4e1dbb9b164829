// The oracle library ships no types; the tests use a small part of it.
declare module '@msimerson/stun' {
  interface StunAttributeValue {
    type: number;
    value: unknown;
  }
  export interface StunMessageLike {
    type: number;
    transactionId: Buffer;
    getAttribute(type: number): { value: any } | undefined;
    getXorAddress(): { address: string; port: number; family: string } | undefined;
    addXorAddress(ip: string, port: number): unknown;
    addSoftware(software: string): unknown;
    addFingerprint(): unknown;
    addAttribute(type: number, ...args: unknown[]): unknown;
    setTransactionId(id: Buffer): boolean;
    toBuffer(): Buffer;
    readonly attributes: StunAttributeValue[];
  }
  const stun: {
    createMessage(type: number, transaction?: Buffer): StunMessageLike;
    decode(message: Buffer): StunMessageLike;
    encode(message: StunMessageLike): Buffer;
    validateFingerprint(message: StunMessageLike): boolean;
    constants: Record<string, number>;
  };
  export default stun;
}
