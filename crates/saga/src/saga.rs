//! The saga definition: [`Saga`], built and validated by [`SagaBuilder`].

use std::fmt;
use std::sync::Arc;

use tracing::Instrument;

use crate::cancel::CancelToken;
use crate::engine::Engine;
use crate::error::{BuildError, SagaError};
use crate::log::{Entry, NoLog, SagaLog};
use crate::outcome::Outcome;
use crate::step::{Step, StepDef, StepKind};

/// A callback receiving every entry (step transition) as it happens, in order.
pub(crate) type EventFn<C> = Arc<dyn for<'a> Fn(&Entry<&'a C>) + Send + Sync>;

/// A validated saga: named, ordered steps sharing a context `C`. Cheap to share (`Arc` inside
/// each step); run it as many times as you like, concurrently too.
pub struct Saga<C> {
    pub(crate) name: Arc<str>,
    pub(crate) steps: Vec<StepDef<C>>,
    pub(crate) on_event: Option<EventFn<C>>,
}

impl<C> Clone for Saga<C> {
    fn clone(&self) -> Self {
        Self {
            name: Arc::clone(&self.name),
            steps: self.steps.clone(),
            on_event: self.on_event.clone(),
        }
    }
}

impl<C> fmt::Debug for Saga<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Saga")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .field("on_event", &self.on_event.is_some())
            .finish()
    }
}

impl<C: Send + Sync + 'static> Saga<C> {
    /// A builder for a saga with this name.
    ///
    /// ```
    /// use baton_saga::{step_fn, Saga};
    /// let saga = Saga::<u32>::builder("count")
    ///     .compensable("one", step_fn(
    ///         |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
    ///         |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
    ///     ))
    ///     .build()
    ///     .unwrap();
    /// assert_eq!(saga.name(), "count");
    /// ```
    pub fn builder(name: impl Into<Arc<str>>) -> SagaBuilder<C> {
        SagaBuilder {
            name: name.into(),
            steps: Vec::new(),
            on_event: None,
        }
    }

    /// The saga's name.
    #[must_use]
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The steps, in order.
    #[must_use]
    pub fn steps(&self) -> &[StepDef<C>] {
        &self.steps
    }

    /// Runs the saga without a log or a cancel token.
    ///
    /// ```
    /// use baton_saga::{step_fn, Saga};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let saga = Saga::<u32>::builder("count")
    ///     .compensable("one", step_fn(
    ///         |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
    ///         |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
    ///     ))
    ///     .build()
    ///     .unwrap();
    /// let outcome = saga.run(41).await;
    /// assert!(outcome.is_completed());
    /// assert_eq!(outcome.into_context(), 42);
    /// # }
    /// ```
    pub async fn run(&self, context: C) -> Outcome<C> {
        match self.run_with(context, &NoLog, None).await {
            Ok(outcome) => outcome,
            Err(SagaError::Write { source, .. } | SagaError::Read { source, .. }) => {
                match source {}
            }
            Err(other) => unreachable!("a fresh run without a log cannot fail: {other}"),
        }
    }

    /// Runs the saga, recording every transition in `log` and stopping when `cancel` is cancelled.
    ///
    /// Fails only when the log does: the saga stops at once, and the error hands back the context;
    /// resume it later with [`resume`](Self::resume).
    ///
    /// ```
    /// use baton_saga::{step_fn, CancelToken, InMemoryLog, Saga};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let saga = Saga::<u32>::builder("count")
    ///     .compensable("one", step_fn(
    ///         |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
    ///         |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
    ///     ))
    ///     .build()
    ///     .unwrap();
    /// let log = InMemoryLog::new();
    /// let token = CancelToken::new();
    /// let outcome = saga.run_with(1, &log, Some(&token)).await.unwrap();
    /// assert_eq!(*outcome.context(), 2);
    /// // saga_started, started, completed, finished
    /// assert_eq!(log.len(), 4);
    /// # }
    /// ```
    pub async fn run_with<L: SagaLog<C>>(
        &self,
        context: C,
        log: &L,
        cancel: Option<&CancelToken>,
    ) -> Result<Outcome<C>, SagaError<C, L::Error>> {
        let span = tracing::info_span!("saga", saga = %self.name);
        let engine = Engine::new(self, log, cancel);
        let result = async {
            let ctx = engine.start(Box::new(context)).await?;
            engine.forward(0, ctx).await
        }
        .instrument(span)
        .await;
        result.map_err(|stop| engine.write_error(stop))
    }

    /// Finishes a saga interrupted part way, from its log: continues forward, or continues
    /// compensating, without running any completed action or completed compensation again.
    ///
    /// At least once: a step whose `started` (or `compensating`) entry is the last one about it
    /// may have run, and runs again. Actions and compensations should be idempotent.
    ///
    /// ```
    /// use baton_saga::{step_fn, InMemoryLog, Saga};
    /// # #[tokio::main(flavor = "current_thread", start_paused = true)]
    /// # async fn main() {
    /// let saga = Saga::<u32>::builder("count")
    ///     .compensable("a", step_fn(
    ///         |n: &mut u32| Box::pin(async move { *n += 1; Ok(()) }),
    ///         |n: &mut u32| Box::pin(async move { *n -= 1; Ok(()) }),
    ///     ))
    ///     .compensable("b", step_fn(
    ///         |n: &mut u32| Box::pin(async move { *n += 10; Ok(()) }),
    ///         |n: &mut u32| Box::pin(async move { *n -= 10; Ok(()) }),
    ///     ))
    ///     .build()
    ///     .unwrap();
    /// let log = InMemoryLog::new();
    /// saga.run_with(0, &log, None).await.unwrap();
    /// // Pretend the process died after "a" completed (saga_started, started, completed).
    /// let crashed = log.truncated(3);
    /// let outcome = saga.resume(&crashed, None).await.unwrap();
    /// assert_eq!(outcome.into_context(), 11); // "a" did not run again
    /// # }
    /// ```
    pub async fn resume<L: SagaLog<C>>(
        &self,
        log: &L,
        cancel: Option<&CancelToken>,
    ) -> Result<Outcome<C>, SagaError<C, L::Error>> {
        let span = tracing::info_span!("saga", saga = %self.name, resumed = true);
        crate::engine::resume(self, log, cancel)
            .instrument(span)
            .await
    }
}

/// Builds a [`Saga`]; see [`Saga::builder`]. Checks the saga in [`build`](Self::build).
#[must_use]
pub struct SagaBuilder<C> {
    name: Arc<str>,
    steps: Vec<StepDef<C>>,
    on_event: Option<EventFn<C>>,
}

impl<C> fmt::Debug for SagaBuilder<C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SagaBuilder")
            .field("name", &self.name)
            .field("steps", &self.steps)
            .finish_non_exhaustive()
    }
}

impl<C: Send + Sync + 'static> SagaBuilder<C> {
    /// Adds a step with its options.
    pub fn step(mut self, step: StepDef<C>) -> Self {
        self.steps.push(step);
        self
    }

    /// Adds a compensable step with default options.
    pub fn compensable(self, name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        self.step(StepDef::compensable(name, step))
    }

    /// Adds the pivot with default options.
    pub fn pivot(self, name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        self.step(StepDef::pivot(name, step))
    }

    /// Adds a retriable step with default options.
    pub fn retriable(self, name: impl Into<Arc<str>>, step: impl Step<C>) -> Self {
        self.step(StepDef::retriable(name, step))
    }

    /// Calls `f` with every entry (step transition), in order, as it happens: the same entries a
    /// log receives. A panic in `f` is caught and ignored.
    pub fn on_event(mut self, f: impl for<'a> Fn(&Entry<&'a C>) + Send + Sync + 'static) -> Self {
        self.on_event = Some(Arc::new(f));
        self
    }

    /// Checks the saga: at least one step, non-empty unique names, at most one pivot, only
    /// retriable steps after it (and none before), no zero timeouts.
    ///
    /// ```
    /// use baton_saga::{step_fn, BuildError, Saga};
    /// let step = || step_fn(
    ///     |_: &mut ()| Box::pin(async { Ok(()) }),
    ///     |_: &mut ()| Box::pin(async { Ok(()) }),
    /// );
    /// let err = Saga::builder("s").compensable("a", step()).compensable("a", step()).build();
    /// assert!(matches!(err, Err(BuildError::DuplicateName { .. })));
    /// ```
    pub fn build(self) -> Result<Saga<C>, BuildError> {
        let saga = || self.name.to_string();
        if self.steps.is_empty() {
            return Err(BuildError::NoSteps { saga: saga() });
        }
        let mut seen = std::collections::HashMap::new();
        let mut pivot: Option<&str> = None;
        for (index, def) in self.steps.iter().enumerate() {
            let step = || def.name.to_string();
            if def.name.is_empty() {
                return Err(BuildError::EmptyName {
                    saga: saga(),
                    index,
                });
            }
            if let Some(first) = seen.insert(Arc::clone(&def.name), index) {
                return Err(BuildError::DuplicateName {
                    saga: saga(),
                    step: step(),
                    first,
                    second: index,
                });
            }
            match (def.kind, pivot) {
                (StepKind::Pivot, Some(p)) => {
                    return Err(BuildError::SecondPivot {
                        saga: saga(),
                        step: step(),
                        pivot: p.to_owned(),
                    });
                }
                (StepKind::Pivot, None) => pivot = Some(&def.name),
                (StepKind::Compensable, Some(p)) => {
                    return Err(BuildError::NotRetriableAfterPivot {
                        saga: saga(),
                        step: step(),
                        pivot: p.to_owned(),
                    });
                }
                (StepKind::Retriable, None) => {
                    return Err(BuildError::RetriableBeforePivot {
                        saga: saga(),
                        step: step(),
                    });
                }
                _ => {}
            }
            for (field, t) in [
                ("timeout", def.timeout),
                ("compensation_timeout", def.compensation_timeout),
            ] {
                if t.is_some_and(|t| t.is_zero()) {
                    return Err(BuildError::ZeroTimeout {
                        saga: saga(),
                        step: step(),
                        field,
                    });
                }
            }
            if def.compensate_if_cancelled && def.kind != StepKind::Compensable {
                return Err(BuildError::CompensateIfCancelledNotCompensable {
                    saga: saga(),
                    step: step(),
                });
            }
        }
        Ok(Saga {
            name: self.name,
            steps: self.steps,
            on_event: self.on_event,
        })
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::step::step_fn;

    fn noop() -> StepDef<()> {
        StepDef::compensable(
            "x",
            step_fn(
                |_: &mut ()| Box::pin(async { Ok(()) }),
                |_: &mut ()| Box::pin(async { Ok(()) }),
            ),
        )
    }

    fn named(name: &str, kind: StepKind) -> StepDef<()> {
        let d = noop();
        StepDef::new(
            name,
            kind,
            step_fn(
                |_: &mut ()| Box::pin(async { Ok(()) }),
                |_: &mut ()| Box::pin(async { Ok(()) }),
            ),
        )
        .retry(d.retry)
    }

    fn build(steps: Vec<StepDef<()>>) -> Result<Saga<()>, BuildError> {
        steps
            .into_iter()
            .fold(Saga::builder("s"), SagaBuilder::step)
            .build()
    }

    #[test]
    fn rejects_bad_sagas_naming_the_step() {
        use StepKind::*;
        assert!(matches!(build(vec![]), Err(BuildError::NoSteps { .. })));
        assert!(matches!(
            build(vec![named("", Compensable)]),
            Err(BuildError::EmptyName { index: 0, .. })
        ));
        let e = build(vec![named("p", Pivot), named("q", Pivot)]).unwrap_err();
        assert!(matches!(e, BuildError::SecondPivot { ref step, .. } if step == "q"));
        let e = build(vec![named("p", Pivot), named("c", Compensable)]).unwrap_err();
        assert!(matches!(e, BuildError::NotRetriableAfterPivot { ref step, .. } if step == "c"));
        let e = build(vec![named("r", Retriable), named("p", Pivot)]).unwrap_err();
        assert!(matches!(e, BuildError::RetriableBeforePivot { ref step, .. } if step == "r"));
        let e = build(vec![noop().timeout(Duration::ZERO)]).unwrap_err();
        assert!(matches!(
            e,
            BuildError::ZeroTimeout {
                field: "timeout",
                ..
            }
        ));
        let e = build(vec![named("p", Pivot).compensate_if_cancelled(true)]).unwrap_err();
        assert!(matches!(
            e,
            BuildError::CompensateIfCancelledNotCompensable { .. }
        ));
        assert!(
            build(vec![
                named("c", Compensable),
                named("p", Pivot),
                named("r", Retriable)
            ])
            .is_ok()
        );
    }
}
