// A socket.io 4 server for wsdeck's preset tests: pings every 300 ms and drops a client that
// does not answer within 300 ms; answers "chat" events with "echo". Prints
// "listening on HOST:PORT". With the argument `refuse`, a middleware refuses every client
// (the server answers 40 with 44{"message":"not authorized"}).
const http = require("http");
const { Server } = require("socket.io");

const server = http.createServer();
const io = new Server(server, { pingInterval: 300, pingTimeout: 300, transports: ["websocket"] });
if (process.argv[2] === "refuse") {
  io.use((socket, next) => next(new Error("not authorized")));
}
io.on("connection", (socket) => {
  socket.on("chat", (text) => socket.emit("echo", text));
});
server.listen(0, "127.0.0.1", () => {
  const a = server.address();
  console.log(`listening on ${a.address}:${a.port}`);
});
