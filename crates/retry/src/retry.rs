//! The async [`retry`] helper: runs an operation under a [`Policy`], sleeping on tokio's clock.

use std::fmt;
use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;

use crate::budget::RetryBudget;
use crate::classify::{AlwaysRetry, Classify, Decision, NoNotify, Notify};
use crate::delays::Delays;
use crate::error::{RetryError, StopReason};
use crate::policy::Policy;

/// Runs `op` under `policy`: call it, and while it fails with a retryable error and the policy allows,
/// wait the next delay (on tokio's clock, so a paused test clock works) and call it again.
///
/// Returns a [`Retry`] builder; configure it with [`when`](Retry::when) (which errors to retry),
/// [`notify`](Retry::notify) (a hook before each retry), [`budget`](Retry::budget) (a shared
/// [`RetryBudget`]) and [`seed`](Retry::seed) (reproducible jitter), then
/// [`run`](Retry::run)`.await` it. `op` is any `FnMut() -> impl Future<Output = Result<T, E>>`.
///
/// ```
/// use std::time::Duration;
/// use baton_retry::{retry, Policy, StopReason};
///
/// # #[tokio::main(flavor = "current_thread", start_paused = true)]
/// # async fn main() {
/// let policy = Policy::fixed(Duration::from_secs(1)).attempts(3).build().unwrap();
/// let started = tokio::time::Instant::now();
/// let err = retry(&policy, || async { Err::<(), _>("unavailable") }).run().await.unwrap_err();
/// assert_eq!((err.error, err.attempts, err.reason), ("unavailable", 3, StopReason::AttemptsExhausted));
/// assert_eq!(started.elapsed(), Duration::from_secs(2)); // two waits of 1 s, on the paused clock
/// # }
/// ```
pub fn retry<Op>(policy: &Policy, op: Op) -> Retry<'_, Op> {
    Retry {
        policy,
        op,
        classify: AlwaysRetry,
        notify: NoNotify,
        budget: None,
        seed: None,
    }
}

/// A configured retry of one operation, from [`retry`]; [`run`](Self::run) it.
///
/// `C` classifies errors ([`AlwaysRetry`] by default) and `N` is told of each retry ([`NoNotify`] by
/// default). `'a` is the lifetime of the borrowed [`Policy`] and [`RetryBudget`].
#[must_use = "a retry does nothing until `.run().await`"]
pub struct Retry<'a, Op, C = AlwaysRetry, N = NoNotify> {
    policy: &'a Policy,
    op: Op,
    classify: C,
    notify: N,
    budget: Option<&'a RetryBudget>,
    seed: Option<u64>,
}

/// The operation succeeded: its value and the attempts it took (1 when the first try succeeded).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Success<T> {
    /// The operation's value.
    pub value: T,
    /// Attempts made, the successful one included.
    pub attempts: u32,
}

impl<T> Success<T> {
    /// The value, dropping the attempt count.
    #[must_use]
    pub fn into_value(self) -> T {
        self.value
    }
}

/// Shows the configuration; the operation, classifier and hook appear as their type names.
impl<Op, C, N> fmt::Debug for Retry<'_, Op, C, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Retry")
            .field("policy", &self.policy)
            .field("classify", &std::any::type_name::<C>())
            .field("notify", &std::any::type_name::<N>())
            .field("budget", &self.budget)
            .field("seed", &self.seed)
            .finish_non_exhaustive()
    }
}

impl<'a, Op, C, N> Retry<'a, Op, C, N> {
    /// Classifies errors with a closure: [`Decision::Retry`], [`Decision::RetryAfter`] (a server's
    /// delay) or [`Decision::Permanent`] (stop now). Without it every error is retried.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Decision, Policy, StopReason};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::fixed(Duration::from_secs(1)).attempts(5).build().unwrap();
    /// let err = retry(&policy, || async { Err::<(), u16>(404) })
    ///     .when(|status| if *status >= 500 { Decision::Retry } else { Decision::Permanent })
    ///     .run()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!((err.attempts, err.reason), (1, StopReason::Permanent));
    /// # }
    /// ```
    pub fn when<F, T, E, Fut>(self, classify: F) -> Retry<'a, Op, F, N>
    where
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        F: FnMut(&E) -> Decision,
    {
        self.classify(classify)
    }

    /// Classifies errors with any [`Classify`] implementation (use [`when`](Self::when) for
    /// closures, whose argument type it infers).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Classify, Decision, Policy};
    ///
    /// /// HTTP statuses: 429 and 5xx are transient, the rest permanent.
    /// #[derive(Debug)]
    /// struct Http;
    ///
    /// impl Classify<u16> for Http {
    ///     fn classify(&mut self, status: &u16) -> Decision {
    ///         match status {
    ///             429 | 500.. => Decision::Retry,
    ///             _ => Decision::Permanent,
    ///         }
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::fixed(Duration::from_millis(10)).attempts(3).build().unwrap();
    /// let err = retry(&policy, || async { Err::<(), u16>(503) }).classify(Http).run().await.unwrap_err();
    /// assert_eq!(err.attempts, 3);
    /// # }
    /// ```
    pub fn classify<C2>(self, classify: C2) -> Retry<'a, Op, C2, N> {
        Retry {
            policy: self.policy,
            op: self.op,
            classify,
            notify: self.notify,
            budget: self.budget,
            seed: self.seed,
        }
    }

    /// Calls `hook(attempt, &error, delay)` before each retry: the number of the attempt that failed
    /// (1 for the first try), its error, and the delay before the next attempt.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Policy};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::linear(Duration::from_secs(1), Duration::from_secs(1)).attempts(3).build().unwrap();
    /// let mut seen = Vec::new();
    /// let _ = retry(&policy, || async { Err::<(), _>("busy") })
    ///     .notify(|attempt, err, delay| seen.push((attempt, *err, delay)))
    ///     .run()
    ///     .await;
    /// assert_eq!(seen, [(1, "busy", Duration::from_secs(1)), (2, "busy", Duration::from_secs(2))]);
    /// # }
    /// ```
    pub fn notify<F, T, E, Fut>(self, hook: F) -> Retry<'a, Op, C, F>
    where
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        F: FnMut(u32, &E, Duration),
    {
        self.notify_with(hook)
    }

    /// Notifies retries to any [`Notify`] implementation (use [`notify`](Self::notify) for
    /// closures, whose argument types it infers).
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Notify, Policy};
    ///
    /// /// Counts retries.
    /// #[derive(Debug, Default)]
    /// struct Retries(u32);
    ///
    /// impl<E> Notify<E> for &mut Retries {
    ///     fn notify(&mut self, _attempt: u32, _error: &E, _delay: Duration) {
    ///         self.0 += 1;
    ///     }
    /// }
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::fixed(Duration::from_millis(10)).attempts(4).build().unwrap();
    /// let mut retries = Retries::default();
    /// let _ = retry(&policy, || async { Err::<(), _>("down") }).notify_with(&mut retries).run().await;
    /// assert_eq!(retries.0, 3);
    /// # }
    /// ```
    pub fn notify_with<N2>(self, notify: N2) -> Retry<'a, Op, C, N2> {
        Retry {
            policy: self.policy,
            op: self.op,
            classify: self.classify,
            notify,
            budget: self.budget,
            seed: self.seed,
        }
    }

    /// Draws retries from a shared [`RetryBudget`]: the call deposits once, each retry withdraws, and
    /// a refused withdrawal stops with [`StopReason::BudgetExhausted`].
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Policy, RetryBudget, StopReason};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// // No reserve and no share: no retry at all.
    /// let budget = RetryBudget::builder().ratio(0.0).min_per_sec(0).build().unwrap();
    /// let policy = Policy::fixed(Duration::from_millis(10)).attempts(5).build().unwrap();
    /// let err = retry(&policy, || async { Err::<(), _>("down") })
    ///     .budget(&budget)
    ///     .run()
    ///     .await
    ///     .unwrap_err();
    /// assert_eq!((err.attempts, err.reason), (1, StopReason::BudgetExhausted));
    /// # }
    /// ```
    pub fn budget(mut self, budget: &'a RetryBudget) -> Self {
        self.budget = Some(budget);
        self
    }

    /// Seeds the jitter, for reproducible runs: see [`Policy::delays_seeded`]. Give each concurrent
    /// call its own seed.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Jitter, Policy};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::fixed(Duration::from_secs(1)).attempts(5).jitter(Jitter::Full).build().unwrap();
    /// let mut waits = Vec::new();
    /// let _ = retry(&policy, || async { Err::<(), _>("down") })
    ///     .notify(|_, _, delay| waits.push(delay))
    ///     .seed(11)
    ///     .run()
    ///     .await;
    /// assert!(policy.delays_seeded(11).eq(waits));
    /// # }
    /// ```
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Runs the operation until it succeeds or retrying stops.
    ///
    /// `run` borrows the `Retry`, so a configured retry can run again (each run starts afresh); to
    /// keep the future in a variable, bind the `Retry` first (`let mut r = retry(..); let f =
    /// r.run();`). Borrowing rather than consuming keeps the future small and spares a copy of the
    /// configuration into it, which halves the cost of a first-try success.
    ///
    /// A first-try success allocates nothing and reads no clock, unless the policy has
    /// `max_elapsed` or a [`budget`](Self::budget) is set (each run deposits once, at one clock
    /// read); the random source is seeded at the first failure.
    ///
    /// # Errors
    /// [`RetryError`] with the last error, the attempts made and the [`StopReason`]: a permanent
    /// error, no attempts left, `max_elapsed` would be passed by the next wait, or the budget refused
    /// the retry.
    ///
    /// ```
    /// use std::time::Duration;
    /// use baton_retry::{retry, Policy};
    ///
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let policy = Policy::default();
    /// let mut calls = 0;
    /// let ok = retry(&policy, || {
    ///     calls += 1;
    ///     let fail = calls < 3;
    ///     async move { if fail { Err("busy") } else { Ok("done") } }
    /// })
    /// .run()
    /// .await
    /// .unwrap();
    /// assert_eq!((ok.value, ok.attempts), ("done", 3));
    /// # }
    /// ```
    pub async fn run<T, E, Fut>(&mut self) -> Result<Success<T>, RetryError<E>>
    where
        Op: FnMut() -> Fut,
        Fut: Future<Output = Result<T, E>>,
        C: Classify<E>,
        N: Notify<E>,
    {
        // The configuration stays behind `&mut self`: copying it into the state machine (a move
        // into a by-value `run`, or destructuring) costs more than the rest of a first-try success.
        if let Some(budget) = self.budget {
            budget.deposit();
        }
        let deadline = self.policy.max_elapsed().map(|max| (Instant::now(), max));
        let mut delays: Option<Delays> = None;
        let mut attempts = 1;
        loop {
            let error = match (self.op)().await {
                Ok(value) => return Ok(Success { value, attempts }),
                Err(error) => error,
            };
            let retry_after = match self.classify.classify(&error) {
                Decision::Retry => None,
                Decision::RetryAfter(delay) => Some(delay),
                Decision::Permanent => {
                    return Err(RetryError::new(error, attempts, StopReason::Permanent));
                }
            };
            let delays = delays.get_or_insert_with(|| Delays::new(self.policy, self.seed));
            let Some(scheduled) = delays.next_nanos() else {
                return Err(RetryError::new(
                    error,
                    attempts,
                    StopReason::AttemptsExhausted,
                ));
            };
            let delay = retry_after.unwrap_or(Duration::from_nanos(scheduled));
            if let Some((start, max_elapsed)) = deadline
                && start.elapsed().saturating_add(delay) > max_elapsed
            {
                let reason = StopReason::ElapsedExhausted {
                    max_elapsed,
                    next_delay: delay,
                };
                return Err(RetryError::new(error, attempts, reason));
            }
            if let Some(budget) = self.budget
                && !budget.try_withdraw()
            {
                return Err(RetryError::new(
                    error,
                    attempts,
                    StopReason::BudgetExhausted,
                ));
            }
            self.notify.notify(attempts, &error, delay);
            drop(error);
            tokio::time::sleep(delay).await;
            attempts += 1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const MS: Duration = Duration::from_millis(1);

    fn assert_send<T: Send>(_: &T) {}

    #[tokio::test(start_paused = true)]
    async fn retry_after_overrides_the_schedule_and_max_delay() {
        let policy = Policy::fixed(10 * MS)
            .attempts(3)
            .max_delay(20 * MS)
            .build()
            .unwrap();
        let start = Instant::now();
        let calls = Cell::new(0);
        let ok = retry(&policy, || {
            calls.set(calls.get() + 1);
            let n = calls.get();
            async move { if n < 3 { Err(n) } else { Ok(n) } }
        })
        .when(|n| {
            if *n == 1 {
                Decision::RetryAfter(Duration::from_secs(5))
            } else {
                Decision::Retry
            }
        })
        .run()
        .await
        .unwrap();
        assert_eq!((ok.value, ok.attempts), (3, 3));
        assert_eq!(start.elapsed(), Duration::from_secs(5) + 10 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn elapsed_cap_stops_before_a_late_retry() {
        let policy = Policy::fixed(10 * MS)
            .attempts(100)
            .max_elapsed(45 * MS)
            .build()
            .unwrap();
        let start = Instant::now();
        let err = retry(&policy, || async {
            tokio::time::sleep(MS).await;
            Err::<(), _>(())
        })
        .run()
        .await
        .unwrap_err();
        // Attempts start at 0, 11, 22, 33 and 44 ms; the next would start at 45 + 10 > 45.
        assert_eq!(err.attempts, 5);
        assert_eq!(
            err.reason,
            StopReason::ElapsedExhausted {
                max_elapsed: 45 * MS,
                next_delay: 10 * MS
            }
        );
        assert_eq!(start.elapsed(), 45 * MS);
    }

    #[tokio::test(start_paused = true)]
    async fn success_reports_attempts_and_future_is_send() {
        let policy = Policy::default();
        let mut configured = retry(&policy, || async { Ok::<_, ()>(7) }).seed(1);
        let fut = configured.run();
        assert_send(&fut);
        let ok = fut.await.unwrap();
        assert_eq!(
            ok,
            Success {
                value: 7,
                attempts: 1
            }
        );
        assert_eq!(ok.into_value(), 7);
    }

    #[test]
    fn debug_shows_the_configuration() {
        let policy = Policy::no_retry();
        let r = retry(&policy, || async { Ok::<(), ()>(()) }).seed(9);
        let text = format!("{r:?}");
        assert!(text.contains("seed: Some(9)"), "{text}");
        assert!(text.contains("AlwaysRetry"), "{text}");
    }
}
