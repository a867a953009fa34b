//! Shared helpers: a scripted step that records its successful calls in a shared log.

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use baton_retry::Policy;
use baton_saga::{Saga, Step, StepDef, StepError, StepKind};

/// A successful action (`true`) or compensation (`false`) of step `usize`.
pub(crate) type Calls = Arc<Mutex<Vec<(bool, usize)>>>;

/// How a step behaves.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Script {
    /// The action fails this many times first (`u32::MAX`: always).
    pub(crate) action_fails: u32,
    /// The compensation fails this many times first.
    pub(crate) comp_fails: u32,
    /// How long the action and the compensation take.
    pub(crate) delay: Duration,
}

pub(crate) struct Scripted {
    pub(crate) index: usize,
    pub(crate) script: Script,
    pub(crate) calls: Calls,
    action_attempts: AtomicU32,
    comp_attempts: AtomicU32,
}

/// The context: the indices of the steps whose action is in effect.
pub(crate) type Ctx = Vec<usize>;

impl Step<Ctx> for Scripted {
    async fn action(&self, ctx: &mut Ctx) -> Result<(), StepError> {
        if !self.script.delay.is_zero() {
            tokio::time::sleep(self.script.delay).await;
        }
        let n = self.action_attempts.fetch_add(1, Ordering::SeqCst);
        if n < self.script.action_fails {
            return Err(format!("action {} failed", self.index).into());
        }
        ctx.push(self.index);
        self.calls.lock().unwrap().push((true, self.index));
        Ok(())
    }

    async fn compensate(&self, ctx: &mut Ctx) -> Result<(), StepError> {
        if !self.script.delay.is_zero() {
            tokio::time::sleep(self.script.delay).await;
        }
        let n = self.comp_attempts.fetch_add(1, Ordering::SeqCst);
        if n < self.script.comp_fails {
            return Err(format!("compensation {} failed", self.index).into());
        }
        ctx.retain(|&i| i != self.index);
        self.calls.lock().unwrap().push((false, self.index));
        Ok(())
    }
}

pub(crate) fn name(i: usize) -> String {
    format!("step{i}")
}

/// A saga of scripted steps with `pivot` as its pivot (steps after it retriable); actions and
/// compensations get three attempts 10 ms apart.
pub(crate) fn saga(scripts: &[Script], pivot: Option<usize>, calls: &Calls) -> Saga<Ctx> {
    let policy = Policy::fixed(Duration::from_millis(10))
        .attempts(3)
        .build()
        .unwrap();
    let mut builder = Saga::builder("scripted");
    for (index, &script) in scripts.iter().enumerate() {
        let kind = match pivot {
            Some(p) if index == p => StepKind::Pivot,
            Some(p) if index > p => StepKind::Retriable,
            _ => StepKind::Compensable,
        };
        let step = Scripted {
            index,
            script,
            calls: Arc::clone(calls),
            action_attempts: AtomicU32::new(0),
            comp_attempts: AtomicU32::new(0),
        };
        builder = builder.step(
            StepDef::new(name(index), kind, step)
                .retry(policy)
                .compensation_retry(policy),
        );
    }
    builder.build().unwrap()
}
