//! Memory per operation: `size_of::<Operation>()` and the heap an operation
//! holds while in flight, counted by a counting global allocator.
//!
//! Response bodies are not counted: the in-memory transport answers with
//! static `Bytes`, which own no heap. What a parsed status keeps (its strings)
//! is counted. The shared script and the timer are made before counting
//! starts: the timer is shared by every operation, as an SDK would share one
//! (the default `TokioTimer`, or one `VirtualTimer` through
//! `with_shared_timer`); the operation's own `Arc`s and boxes around the
//! script are counted. Each figure is the bytes requested from the allocator; the
//! allocator's own per-block overhead shows up in the `scale` bench's RSS.
//!
//! Run: `cargo bench --bench memory --features test-util,tokio`

mod support;

use std::alloc::{GlobalAlloc, Layout, System};
use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;
use support::{InMemory, MONITOR};

use bytes::Bytes;
use futures::{FutureExt, StreamExt};
use http::StatusCode;
use lro_poller::policy::{Backoff, BackoffBuilder, PollContext, PollPolicy, ProgressBuilder};
use lro_poller::testing::VirtualTimer;
use lro_poller::timer::Timer;
use lro_poller::{AsyncJobStatus, JobState, Operation, Transport};

/// What awaiting an operation runs.
type OutcomeFuture = <Operation as std::future::IntoFuture>::IntoFuture;

/// Counts the bytes and blocks live on the heap.
struct Counting;

static LIVE_BYTES: AtomicIsize = AtomicIsize::new(0);
static LIVE_BLOCKS: AtomicIsize = AtomicIsize::new(0);

// SAFETY: every call is forwarded to `System` unchanged; only counters are
// updated beside it.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc` is passed on as is.
        let block = unsafe { System.alloc(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        block
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let block = unsafe { System.alloc_zeroed(layout) };
        if !block.is_null() {
            LIVE_BYTES.fetch_add(layout.size() as isize, Ordering::Relaxed);
            LIVE_BLOCKS.fetch_add(1, Ordering::Relaxed);
        }
        block
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        // SAFETY: as for `alloc`.
        unsafe { System.dealloc(block, layout) };
        LIVE_BYTES.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        LIVE_BLOCKS.fetch_sub(1, Ordering::Relaxed);
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as for `alloc`.
        let moved = unsafe { System.realloc(block, layout, new_size) };
        if !moved.is_null() {
            LIVE_BYTES.fetch_add(
                new_size as isize - layout.size() as isize,
                Ordering::Relaxed,
            );
        }
        moved
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[derive(Debug, Clone, Copy)]
struct Heap {
    bytes: isize,
    blocks: isize,
}

fn live() -> Heap {
    Heap {
        bytes: LIVE_BYTES.load(Ordering::Relaxed),
        blocks: LIVE_BLOCKS.load(Ordering::Relaxed),
    }
}

/// Makes a value and returns it with the heap it holds (what `make` left
/// allocated).
fn held<T>(make: impl FnOnce() -> T) -> (T, Heap) {
    let before = live();
    let value = make();
    let after = live();
    let heap = Heap {
        bytes: after.bytes - before.bytes,
        blocks: after.blocks - before.blocks,
    };
    (value, heap)
}

struct Setup {
    answers: Arc<[(StatusCode, Bytes)]>,
    /// One virtual timer shared by every operation, as an SDK would share
    /// one timer (`with_shared_timer`: no allocation per operation).
    virtual_timer: Arc<dyn Timer>,
}

impl Setup {
    fn new() -> Self {
        let answers = support::script(3);
        Setup {
            answers,
            virtual_timer: Arc::new(VirtualTimer::new()),
        }
    }

    fn transport(&self, hang: bool) -> InMemory {
        if hang {
            InMemory::hanging(&self.answers)
        } else {
            InMemory::new(&self.answers)
        }
    }

    /// An operation with the default policies on the virtual timer.
    fn on_virtual_time(&self) -> Operation {
        Operation::monitor(self.transport(false), MONITOR)
            .with_shared_timer(Arc::clone(&self.virtual_timer))
            .build()
            .expect("a valid set-up")
    }

    /// An operation with the default policies on tokio's clock: the default
    /// timer inside a runtime (one `TokioTimer` shared by every operation).
    fn on_tokio(&self, hang: bool) -> Operation {
        Operation::monitor(self.transport(hang), MONITOR)
            .build()
            .expect("a valid set-up")
    }
}

/// The default policy's share: the shared configuration costs an operation a
/// pointer; its running state is the progress history.
fn policy_share() {
    let policy = PollPolicy::default();
    let (backoff, heap) = held(|| ProgressBuilder::new().build());
    let inline = size_of_val(&backoff);
    let fresh = report("of which the default backoff, fresh", heap, inline);
    let mut backoff = backoff;
    let status = AsyncJobStatus::new(JobState::InProgress).with_percentage(27.8);
    let (_, grown) = held(|| {
        let mut ctx = PollContext::new(1, Duration::from_secs(1));
        ctx.last_status = Some(&status);
        backoff.next(&ctx)
    });
    let after = fresh + grown.bytes.max(0) as usize;
    println!(
        "  {:<46} heap {:>4} B more: {after:>4} B",
        "of which the default backoff, after one report", grown.bytes
    );
    let (clones, heap) = held(|| vec![policy.clone(); 1000]);
    println!(
        "  1000 clones of one policy: {} B on the heap ({} B each: a pointer)",
        heap.bytes,
        heap.bytes / 1000
    );
    drop(clones);
}

/// Polls the stream once; drops what it yields (that belongs to the caller).
fn step(operation: &mut Operation) {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    match operation.poll_next_unpin(&mut cx) {
        Poll::Ready(Some(status)) => drop(status.expect("a status")),
        Poll::Ready(None) => panic!("the operation ended early"),
        Poll::Pending => {}
    }
}

/// Polls a future once and keeps it.
fn poll_once(future: &mut OutcomeFuture) {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    assert!(future.poll_unpin(&mut cx).is_pending(), "ended early");
}

/// Prints one figure; returns the inline size plus the heap.
fn report(label: &str, heap: Heap, inline: usize) -> usize {
    let total = inline + heap.bytes.max(0) as usize;
    println!(
        "  {label:<46} heap {:>4} B in {:>2} blocks; with the {inline} B inline: {total:>4} B",
        heap.bytes, heap.blocks
    );
    total
}

fn main() {
    let inline = size_of::<Operation>();
    println!("size_of::<Operation>() = {inline} B");
    println!(
        "size_of::<Option<Operation>>() = {} B",
        size_of::<Option<Operation>>()
    );
    println!("heap held by one operation (default policies, response bodies excluded):");
    let setup = Setup::new();
    let mut worst = 0;

    // Warm up once so one-time allocations (thread-locals, lazies) are not
    // counted against the first figure.
    {
        let mut operation = setup.on_virtual_time();
        step(&mut operation);
    }

    let (operation, heap) = held(|| setup.on_virtual_time());
    worst = worst.max(report("built, not polled yet", heap, inline));
    drop(operation);

    let (operation, heap) = held(|| {
        let mut operation = setup.on_virtual_time();
        step(&mut operation);
        operation
    });
    worst = worst.max(report(
        "after one status, sleeping (VirtualTimer)",
        heap,
        inline,
    ));
    drop(operation);

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .expect("a runtime");
    let _guard = runtime.enter();
    {
        let mut warm = setup.on_tokio(false);
        step(&mut warm);
        let mut warm = setup.on_tokio(true);
        step(&mut warm);
    }

    let (operation, heap) = held(|| {
        let mut operation = setup.on_tokio(false);
        step(&mut operation);
        operation
    });
    worst = worst.max(report(
        "after one status, sleeping (TokioTimer)",
        heap,
        inline,
    ));
    drop(operation);

    // `.await` boxes the operation into its outcome future: the operation then
    // lives on the heap, so the inline size is part of the heap figure.
    let (future, heap) = held(|| {
        let mut future = IntoFuture::into_future(setup.on_tokio(false));
        poll_once(&mut future);
        future
    });
    let boxed = report("awaited, sleeping (TokioTimer; boxed future)", heap, 0);
    worst = worst.max(boxed);
    drop(future);

    println!(
        "most an operation holds between polls: {worst} B (target <= 512 B: {})",
        if worst <= 512 { "holds" } else { "missed" }
    );
    policy_share();

    // While a request is out, the request and the transport's future are
    // alive too. Measure them alone (the same request sent straight to the
    // same transport) to tell them from the operation's own share.
    println!("while a request is out (transient: freed when the transport answers):");
    let (operation, heap) = held(|| {
        let mut operation = setup.on_tokio(true);
        step(&mut operation);
        operation
    });
    let window = report(
        "request in flight, deadline armed (TokioTimer)",
        heap,
        inline,
    );
    drop(operation);
    let transport = setup.transport(true);
    let (request, heap) = held(|| {
        let url = url::Url::parse(MONITOR).expect("a URL");
        let mut request =
            lro_poller::protocol::Protocol::poll_request(&lro_poller::protocol::Graph::new(), &url);
        let meta = lro_poller::RequestMeta::new(lro_poller::RequestKind::Poll, true, false);
        request.extensions_mut().insert(meta);
        let mut future = transport.send(request);
        let mut cx = Context::from_waker(futures::task::noop_waker_ref());
        assert!(future.poll_unpin(&mut cx).is_pending(), "answered");
        future
    });
    let bare = report("of which the request and the transport's future", heap, 0);
    drop(request);
    println!(
        "  the operation's own share while a request is out: {} B",
        window.saturating_sub(bare)
    );
}
