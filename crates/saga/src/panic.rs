//! Turning a panic inside a step's future into an error: [`CatchUnwind`].

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Polls `F` inside `catch_unwind`; a panic becomes `Err(message)`.
///
/// `AssertUnwindSafe` is sound here in the sense that matters: after a panic the future is never
/// polled again, and the context it borrowed is only reported back, with the failure.
pub(crate) struct CatchUnwind<F> {
    inner: F,
}

impl<F> CatchUnwind<F> {
    pub(crate) fn new(inner: F) -> Self {
        Self { inner }
    }
}

impl<F: Future + Unpin> Future for CatchUnwind<F> {
    type Output = Result<F::Output, String>;

    #[inline(always)]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let inner = &mut self.inner;
        match catch_unwind(AssertUnwindSafe(|| Pin::new(inner).poll(cx))) {
            Ok(Poll::Pending) => Poll::Pending,
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Err(payload) => Poll::Ready(Err(panic_message(payload.as_ref()))),
        }
    }
}

/// The message of a panic payload (`&str` or `String`), or a placeholder.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic with a non-string payload".to_owned()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panic_becomes_an_error() {
        let fut: Pin<Box<dyn Future<Output = u8> + Send>> = Box::pin(async { panic!("boom") });
        assert_eq!(CatchUnwind::new(fut).await, Err("boom".to_owned()));
        let ok: Pin<Box<dyn Future<Output = u8> + Send>> = Box::pin(async { 7 });
        assert_eq!(CatchUnwind::new(ok).await, Ok(7));
    }
}
