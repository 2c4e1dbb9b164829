import t from 'tap';
import { procNetField, readTcpRetransmits, retransmitsBetween } from '../../client/tcp-retransmissions.js';

const SNMP = `Ip: Forwarding DefaultTTL
Ip: 1 64
Tcp: RtoAlgorithm RtoMin RtoMax MaxConn ActiveOpens PassiveOpens AttemptFails EstabResets CurrEstab InSegs OutSegs RetransSegs InErrs OutRsts InCsumErrors
Tcp: 1 200 120000 -1 10 20 0 1 5 1000 900 42 0 3 0
Udp: InDatagrams NoPorts
Udp: 7 8
`;
const NETSTAT = `TcpExt: SyncookiesSent TCPTimeouts
TcpExt: 0 17
IpExt: InNoRoutes
IpExt: 0
`;

t.test('procNetField() reads a field from its table, undefined for a missing one', async (t) => {
  t.equal(procNetField(SNMP, 'Tcp', 'RetransSegs'), 42);
  t.equal(procNetField(SNMP, 'Udp', 'NoPorts'), 8);
  t.equal(procNetField(SNMP, 'Tcp', 'Nothing'), undefined);
  t.equal(procNetField(SNMP, 'TcpExt', 'RetransSegs'), undefined);
});

t.test('readTcpRetransmits() reads both files; undefined without /proc/net/snmp; timeouts undefined without netstat', async (t) => {
  t.same(readTcpRetransmits((path) => (path.endsWith('snmp') ? SNMP : NETSTAT)), { retransSegs: 42, timeouts: 17 });
  t.same(
    readTcpRetransmits((path) => {
      if (path.endsWith('snmp')) return SNMP;
      throw new Error('ENOENT');
    }),
    { retransSegs: 42, timeouts: undefined },
  );
  t.equal(
    readTcpRetransmits(() => {
      throw new Error('ENOENT');
    }),
    undefined,
  );
});

t.test('retransmitsBetween() is the difference, null when a reading is missing', async (t) => {
  t.same(retransmitsBetween({ retransSegs: 40, timeouts: 2 }, { retransSegs: 45, timeouts: 3 }), { retransSegs: 5, timeouts: 1 });
  t.same(retransmitsBetween({ retransSegs: 40, timeouts: undefined }, { retransSegs: 45, timeouts: 3 }), { retransSegs: 5, timeouts: null });
  t.equal(retransmitsBetween(undefined, { retransSegs: 45, timeouts: 3 }), null);
});
