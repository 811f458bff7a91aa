// A node `ws` client for wsdeck's tests, speaking the seed's protocol to `wsdeck serve`.
// argv: URL, JSON of ws's perMessageDeflate options (or "off"), LOGIN (user:password),
// SIZE (bytes of each text sent), COUNT (texts sent, each echoed before the next).
// Prints `extensions: …` (the server's answer), `echo N ok` per echo, `bytes read: N` (on the
// socket, so compression shows) and `closed: CODE REASON`, then exits 0; anything unexpected
// is printed as `error: …` with exit 1.
const WebSocket = require('ws');

const [url, deflateArg = '{}', login = 'admin:123456', sizeArg = '10000', countArg = '3'] =
  process.argv.slice(2);
const perMessageDeflate =
  deflateArg === 'off' ? false : { threshold: 0, ...JSON.parse(deflateArg) };
const size = parseInt(sizeArg, 10);
const count = parseInt(countArg, 10);
const ws = new WebSocket(url, { perMessageDeflate, maxPayload: 256 * 1024 * 1024 });

const fail = (why) => {
  console.log(`error: ${why}`);
  process.exit(1);
};
const text = (i) => `message ${i}: ` + 'wsdeck compresses '.repeat(size).slice(0, size);

let state = 'login';
let sent = 0;
ws.on('upgrade', (res) => {
  console.log(`extensions: ${res.headers['sec-websocket-extensions'] || ''}`);
});
ws.on('open', () => ws.send(login));
ws.on('message', (data, isBinary) => {
  const got = isBinary ? null : data.toString();
  if (state === 'login') {
    if (got === null || !got.startsWith('congratulation')) fail(`login answered ${got}`);
    state = 'echo';
    ws.send(text(sent));
    return;
  }
  if (got === null || !got.startsWith('your submit context: ')) return; // pushes, broadcasts
  if (got !== `your submit context: ${text(sent)}`) fail(`echo ${sent} differs`);
  console.log(`echo ${sent} ok`);
  sent += 1;
  if (sent < count) {
    ws.send(text(sent));
  } else {
    console.log(`bytes read: ${ws._socket.bytesRead}`);
    ws.close(1000, 'done');
  }
});
ws.on('close', (code, reason) => {
  console.log(`closed: ${code} ${reason}`);
  process.exit(0);
});
ws.on('error', (e) => fail(e.message));
