//! The TCP acceptor the server listens with: poem's, with every read from a connection capped at
//! [`READ_CAP`] bytes.
//!
//! Why: hyper grows a connection's read buffer to fit what the socket offers, up to about
//! 400 KiB during an upload, and each upload chunk is then copied into the file writer's buffer
//! (up to 2 MiB). With 50 uploads streaming at once that was ~90 MiB above idle; capped reads keep
//! both buffers at the cap, so memory stays near idle whatever the upload size (BENCHMARKS.md).
//! poem does not expose hyper's `max_buf_size`, so the cap is applied at the socket.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};

use poem::http::uri::Scheme;
use poem::listener::{Acceptor, TcpAcceptor};
use poem::web::{LocalAddr, RemoteAddr};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Largest read from one connection.
pub const READ_CAP: usize = 64 * 1024;

/// Accepts connections from `inner` and caps their reads.
pub struct CappedAcceptor {
    pub inner: TcpAcceptor,
}

impl Acceptor for CappedAcceptor {
    type Io = CappedIo<tokio::net::TcpStream>;

    fn local_addr(&self) -> Vec<LocalAddr> {
        self.inner.local_addr()
    }

    async fn accept(&mut self) -> io::Result<(Self::Io, LocalAddr, RemoteAddr, Scheme)> {
        let (io, local, remote, scheme) = self.inner.accept().await?;
        Ok((CappedIo { inner: io }, local, remote, scheme))
    }
}

/// A connection whose reads return at most [`READ_CAP`] bytes.
pub struct CappedIo<T> {
    inner: T,
}

impl<T: AsyncRead + Unpin> AsyncRead for CappedIo<T> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        if buf.remaining() <= READ_CAP {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        let mut sub = buf.take(READ_CAP);
        match Pin::new(&mut self.inner).poll_read(cx, &mut sub) {
            Poll::Ready(Ok(())) => {
                let n = sub.filled().len();
                // SAFETY: `sub` views the start of `buf`'s unfilled part; the inner reader
                // initialized and filled its first `n` bytes.
                unsafe { buf.assume_init(n) };
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for CappedIo<T> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::AsyncReadExt;

    #[tokio::test]
    async fn reads_are_capped_and_complete() {
        let data: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
        let mut io = CappedIo {
            inner: std::io::Cursor::new(data.clone()),
        };
        let mut buf = vec![0u8; 150_000];
        let n = io.read(&mut buf).await.expect("read");
        assert_eq!(n, READ_CAP);
        let mut all = buf[..n].to_vec();
        io.read_to_end(&mut all).await.expect("rest");
        assert_eq!(all, data);
    }
}
