//! Panic isolation: every poll of a job, and the drop of its future, runs under
//! [`std::panic::catch_unwind`], so a panic becomes the job's outcome and the worker goes on.

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::pin::Pin;
use std::task::{Context, Poll};

use crate::job::{Body, Finish, JobId};

/// The message of a panic payload: its `&str` or `String`, `"Box<dyn Any>"` otherwise.
pub(crate) fn panic_message(payload: &(dyn Any + Send)) -> String {
    if let Some(s) = payload.downcast_ref::<&'static str>() {
        (*s).to_owned()
    } else if let Some(s) = payload.downcast_ref::<String>() {
        s.clone()
    } else {
        "Box<dyn Any>".to_owned()
    }
}

/// Polls `fut` once; a panic comes back as `Err(message)` (the payload's `&str` or `String`,
/// `"Box<dyn Any>"` otherwise). The pool polls every job through this; a job that runs several
/// futures of its own uses it to give each its own outcome.
///
/// `AssertUnwindSafe` is sound here in the sense that matters: after a panic the future must not
/// be polled again (the pool drops it), so no broken invariant inside it is observed.
///
/// ```
/// use std::future::Future;
/// use std::task::{Context, Poll, Waker};
///
/// let mut cx = Context::from_waker(Waker::noop());
/// let mut fine = std::pin::pin!(async { 7 });
/// assert_eq!(baton_pool::poll_unwind(fine.as_mut(), &mut cx), Ok(Poll::Ready(7)));
/// let mut bad = std::pin::pin!(async { panic!("boom") });
/// # std::panic::set_hook(Box::new(|_| {}));
/// assert_eq!(baton_pool::poll_unwind(bad.as_mut(), &mut cx), Err("boom".to_owned()));
/// ```
pub fn poll_unwind<F>(fut: Pin<&mut F>, cx: &mut Context<'_>) -> Result<Poll<F::Output>, String>
where
    F: Future + ?Sized,
{
    catch_unwind(AssertUnwindSafe(|| fut.poll(cx))).map_err(|payload| panic_message(&*payload))
}

/// Drops a job's future in place; a panic in its destructor comes back as `Err(message)`.
pub(crate) fn drop_unwind(body: Pin<&mut dyn Body>) -> Result<(), String> {
    catch_unwind(AssertUnwindSafe(move || body.drop_future()))
        .map_err(|payload| panic_message(&*payload))
}

/// Ends a job: drops its future (catching a panic in its destructor, which is logged), then
/// tells its handle or callback `how` it ended. Every way a job ends goes through here, so the
/// outcome is published even when the future's drop panics.
pub(crate) fn finish(mut body: Pin<Box<dyn Body>>, how: Finish, id: JobId) {
    if let Err(message) = drop_unwind(body.as_mut()) {
        tracing::debug!(job = id.get(), %message, "dropping a job's future panicked");
    }
    body.as_mut().publish(how);
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::future::{pending, ready};
    use std::pin::pin;
    use std::task::Waker;

    fn quiet<R>(f: impl FnOnce() -> R) -> R {
        // The default hook would print each expected panic; these tests only look at messages.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let r = f();
        std::panic::set_hook(hook);
        r
    }

    #[test]
    fn messages_from_str_string_and_other_payloads() {
        assert_eq!(panic_message(&"static"), "static");
        assert_eq!(panic_message(&String::from("owned")), "owned");
        assert_eq!(panic_message(&42u8), "Box<dyn Any>");
    }

    #[test]
    fn a_panicking_poll_becomes_an_error() {
        let mut cx = Context::from_waker(Waker::noop());
        let fut = pin!(async { panic!("job {} exploded", 7) });
        let got: Result<Poll<()>, String> = quiet(|| poll_unwind(fut, &mut cx));
        assert_eq!(got, Err("job 7 exploded".to_owned()));
        assert_eq!(poll_unwind(pin!(ready(3)), &mut cx), Ok(Poll::Ready(3)));
        assert_eq!(
            poll_unwind(pin!(pending::<()>()), &mut cx),
            Ok(Poll::Pending)
        );
    }

    #[test]
    fn a_panicking_drop_becomes_an_error() {
        struct Bomb;
        impl Drop for Bomb {
            fn drop(&mut self) {
                panic!("bomb");
            }
        }
        let body = |bomb: Option<Bomb>| {
            let mut job = crate::Job::detached(async move {
                let _held = bomb;
                Ok::<_, ()>(())
            });
            job.body.take().expect("a new job has its body")
        };
        let mut bomb = body(Some(Bomb));
        assert_eq!(quiet(|| drop_unwind(bomb.as_mut())), Err("bomb".to_owned()));
        // The future is gone: dropping again (or the body) does nothing more.
        assert_eq!(drop_unwind(bomb.as_mut()), Ok(()));
        assert_eq!(drop_unwind(body(None).as_mut()), Ok(()));
    }
}
