//! A TCP proxy that a test puts between a service and what it depends on (PostgreSQL, NATS),
//! to cut the connection mid-traffic and restore it.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Forwards connections on [`TcpProxy::addr`] to an upstream address while open.
#[derive(Debug)]
pub struct TcpProxy {
    pub addr: SocketAddr,
    open: watch::Sender<bool>,
    accepting: JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on an ephemeral loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> std::io::Result<Self> {
        let listener = TcpListener::bind(("127.0.0.1", 0)).await?;
        let addr = listener.local_addr()?;
        let (open, state) = watch::channel(true);
        let accepting = tokio::spawn(async move {
            while let Ok((mut inbound, _)) = listener.accept().await {
                if !*state.borrow() {
                    // Cut: the connection is accepted and closed at once, as by a dead host's
                    // firewall reset.
                    drop(inbound);
                    continue;
                }
                let mut cut = state.clone();
                tokio::spawn(async move {
                    let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                        return;
                    };
                    tokio::select! {
                        _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound) => {}
                        _ = cut.wait_for(|open| !*open) => {}
                    }
                    // Dropping both ends closes the connection on both sides.
                });
            }
        });
        Ok(Self {
            addr,
            open,
            accepting,
        })
    }

    /// Closes every forwarded connection, and every new one as soon as it is accepted.
    pub fn cut(&self) {
        self.open.send_replace(false);
    }

    /// Forwards new connections again.
    pub fn restore(&self) {
        self.open.send_replace(true);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.accepting.abort();
    }
}

/// The `host:port` of a URL such as `postgres://user@127.0.0.1:5432/db` or
/// `nats://127.0.0.1:4222`, resolved.
pub fn url_address(url: &str) -> anyhow::Result<SocketAddr> {
    let rest = url
        .split_once("://")
        .map_or(url, |(_, rest)| rest)
        .split(['/', '?'])
        .next()
        .unwrap_or_default();
    let host_port = rest.rsplit_once('@').map_or(rest, |(_, host)| host);
    use std::net::ToSocketAddrs as _;
    host_port
        .to_socket_addrs()?
        .next()
        .ok_or_else(|| anyhow::anyhow!("{url}: no address"))
}

/// `url` with its `host:port` replaced by `addr`.
pub fn url_via(url: &str, addr: SocketAddr) -> anyhow::Result<String> {
    let (scheme, rest) = url
        .split_once("://")
        .ok_or_else(|| anyhow::anyhow!("{url}: no scheme"))?;
    let (authority, path) = rest
        .find(['/', '?'])
        .map_or((rest, ""), |at| rest.split_at(at));
    let user = authority
        .rsplit_once('@')
        .map_or(String::new(), |(user, _)| format!("{user}@"));
    Ok(format!("{scheme}://{user}{addr}{path}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_are_rewritten_to_go_through_the_proxy() {
        let proxy: SocketAddr = "127.0.0.1:40000".parse().expect("addr");
        assert_eq!(
            url_via("postgres://postgres@127.0.0.1:5432/resonance_test_1", proxy).expect("url"),
            "postgres://postgres@127.0.0.1:40000/resonance_test_1"
        );
        assert_eq!(
            url_via("nats://127.0.0.1:4222", proxy).expect("url"),
            "nats://127.0.0.1:40000"
        );
        assert_eq!(
            url_address("postgres://postgres@127.0.0.1:5432/x")
                .expect("addr")
                .port(),
            5432
        );
    }
}
