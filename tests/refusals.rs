//! A refused upgrade says what the server said: the status and the headers that tell the way
//! on — against a Python `websockets` server that refuses. (Its body is shown when the
//! WebSocket library hands it over with the answer; tungstenite does not for this server.)

mod common;

use common::peers::{PeerServer, peers_available, python};
use common::pipe::pipe;

const REFUSER: &str = r#"
import asyncio, http
from websockets.asyncio.server import serve
def refuse(connection, request):
    r = connection.respond(http.HTTPStatus.UNAUTHORIZED, "token expired: please log in again\n")
    r.headers["WWW-Authenticate"] = 'Bearer realm="api"'
    r.headers["Retry-After"] = "30"
    return r
async def main():
    async with serve(lambda ws: None, "127.0.0.1", 0, process_request=refuse) as s:
        print("listening on %s:%d" % s.sockets[0].getsockname()[:2], flush=True)
        await asyncio.Future()
asyncio.run(main())
"#;

#[test]
fn a_refused_upgrade_shows_the_headers_that_say_what_to_do() {
    if !peers_available() {
        return;
    }
    let mut cmd = std::process::Command::new(python());
    cmd.args(["-c", REFUSER]);
    let s = PeerServer::start_cmd(cmd, "refusing server");
    let url = s.url();
    let o = pipe(&[&url, "--auth", "none", "--no-reconnect"], None, "");
    assert!(!o.status.success());
    for want in [
        "401 Unauthorized",
        "WWW-Authenticate: Bearer realm=\"api\"",
        "Retry-After: 30",
    ] {
        assert!(o.stderr.contains(want), "no {want:?} in: {}", o.stderr);
    }
}
