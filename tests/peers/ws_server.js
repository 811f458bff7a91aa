// A node `ws` server for wsdeck's tests. Echoes every message; `big N` is answered with a
// text of N bytes; `frags N` with one text message sent as N frames (`part1 part2 …`). argv[2]: JSON of ws's perMessageDeflate options, or "off".
// Prints `listening on HOST:PORT`, then `extensions: …` (the client's offer) per connection.
const { WebSocketServer } = require('ws');

const arg = process.argv[2] || '{}';
const perMessageDeflate = arg === 'off' ? false : { threshold: 0, ...JSON.parse(arg) };
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port: 0,
  perMessageDeflate,
  maxPayload: 256 * 1024 * 1024,
});
wss.on('listening', () => console.log(`listening on 127.0.0.1:${wss.address().port}`));
wss.on('connection', (ws, req) => {
  console.log(`extensions: ${req.headers['sec-websocket-extensions'] || ''}`);
  ws.on('message', (data, isBinary) => {
    const text = isBinary ? null : data.toString();
    if (text !== null && text.startsWith('big ')) {
      ws.send('x'.repeat(parseInt(text.slice(4), 10)));
    } else if (text !== null && text.startsWith('frags ')) {
      const n = parseInt(text.slice(6), 10);
      for (let i = 1; i <= n; i++) ws.send(`part${i} `, { fin: i === n });
    } else {
      ws.send(data, { binary: isBinary });
    }
  });
});
