// Peer: Node's `ws` package (npm), echo and chat like simple-ws-server's examples.
// Prints `listening on ws://IP:PORT/` once bound. `--deflate 1` turns permessage-deflate on
// (threshold 0, so ~1 KB messages are compressed; the client's offer decides context takeover).
'use strict';
const { WebSocketServer } = require('ws');

const args = process.argv.slice(2);
const opt = { host: '127.0.0.1', port: '0', example: 'echo' };
for (let i = 0; i + 1 < args.length; i += 2) opt[args[i].replace(/^--/, '')] = args[i + 1];

const wss = new WebSocketServer({
  host: opt.host,
  port: Number(opt.port),
  maxPayload: 64 << 20,
  perMessageDeflate: opt.deflate === '1' ? { threshold: 0 } : false,
});
wss.on('listening', () => {
  const a = wss.address();
  process.stdout.write(`listening on ws://${a.address}:${a.port}/\n`);
});
wss.on('connection', (ws, req) => {
  req.socket.setNoDelay(true);
  if (opt.example === 'chat') {
    const ip = req.socket.remoteAddress.replace(/^::ffff:/, '');
    const relay = (text) => {
      for (const c of wss.clients) if (c !== ws && c.readyState === 1) c.send(text);
    };
    relay(`${ip} - connected`);
    ws.on('message', (data, isBinary) => { if (!isBinary) relay(`${ip} - ${data}`); });
    ws.on('close', () => relay(`${ip} - disconnected`));
  } else {
    ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  }
});
