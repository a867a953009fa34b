//! Panic isolation: a panic is that job's outcome, with its message; no worker is lost.

use std::panic::panic_any;

use baton_pool::{Outcome, Pool};

use crate::support::{ExpectedPanic, ms, quiet_expected_panics, sleep_then};

#[tokio::test(start_paused = true)]
async fn a_thousand_panics_in_a_row_lose_no_worker() {
    quiet_expected_panics();
    let pool = Pool::builder().workers(2).build().unwrap();
    let mut handles = Vec::new();
    for i in 0..1_000u32 {
        handles.push(
            pool.submit(async move {
                if i % 3 == 0 {
                    tokio::time::sleep(ms(1)).await; // some panic after an await, on the slow path
                }
                if i % 2 == 0 {
                    panic!("expected panic {i}");
                }
                panic_any(ExpectedPanic);
                #[allow(unreachable_code)]
                Ok::<(), ()>(())
            })
            .unwrap(),
        );
    }
    for (i, h) in (0u32..).zip(handles) {
        let want = if i % 2 == 0 {
            format!("expected panic {i}")
        } else {
            "Box<dyn Any>".to_owned()
        };
        assert_eq!(h.await, Outcome::Panicked(want));
    }
    // The pool still runs the next job, on both workers.
    let next = pool.submit(sleep_then(1, "still here")).unwrap();
    assert_eq!(next.await, Outcome::Succeeded("still here"));
    let stats = pool.stats();
    assert_eq!((stats.panicked, stats.succeeded), (1_000, 1));
    assert_eq!(stats.workers, 2);
    assert!(stats.per_worker.iter().all(|w| w.jobs > 0), "{stats:?}");
    assert!(stats.adds_up());
}

#[tokio::test(start_paused = true)]
async fn detached_panics_are_counted() {
    quiet_expected_panics();
    let pool = Pool::builder().workers(1).build().unwrap();
    for _ in 0..100 {
        pool.spawn_detached(async {
            panic!("expected panic, detached");
            #[allow(unreachable_code)]
            Ok::<(), ()>(())
        })
        .unwrap();
    }
    pool.spawn_detached(async { Ok::<(), ()>(()) }).unwrap();
    pool.idle().await;
    let stats = pool.stats();
    assert_eq!((stats.panicked, stats.succeeded), (100, 1));
}

#[tokio::test(start_paused = true)]
async fn a_panic_while_dropping_a_finished_job_is_contained() {
    quiet_expected_panics();
    struct PanicsOnDrop;
    impl Drop for PanicsOnDrop {
        fn drop(&mut self) {
            panic!("expected panic in a destructor");
        }
    }
    let pool = Pool::builder().workers(1).build().unwrap();
    let bomb = PanicsOnDrop;
    let h = pool
        .submit_with(
            baton_pool::JobOptions::new().timeout(ms(5)).unwrap(),
            async move {
                let _bomb = bomb;
                std::future::pending::<Result<(), ()>>().await
            },
        )
        .unwrap();
    assert_eq!(h.await, Outcome::TimedOut(ms(5)));
    let after = pool.submit(async { Ok::<_, ()>(1) }).unwrap();
    assert_eq!(after.await, Outcome::Succeeded(1));
}
