/// A counting semaphore for async code. It bounds how many argon2 computations run at
/// once: each one holds tens of MiB, so an unbounded login burst could exhaust memory.
///
/// Waiters are served first come, first served, so a steady stream of new requests cannot
/// starve an early one. A waiter whose task is cancelled leaves the queue with
/// `CancellationError` and never consumes a permit.
actor AsyncSemaphore {
    /// How many holders may be inside at once.
    let limit: Int
    /// Permits currently held.
    private(set) var inUse = 0
    /// The most permits ever held at the same time; lets tests prove the bound holds.
    private(set) var highWaterMark = 0

    private var waiters: [UInt64: CheckedContinuation<Void, any Error>] = [:]
    /// Arrival order of waiter ids; ids of cancelled waiters are skipped when reached.
    private var queue: [UInt64] = []
    private var head = 0
    private var nextID: UInt64 = 0

    init(limit: Int) {
        precondition(limit >= 1, "a semaphore needs at least one permit")
        self.limit = limit
    }

    /// Tasks currently queued for a permit.
    var waitingCount: Int { waiters.count }

    /// Waits for a permit. Throws `CancellationError` if the task is cancelled before one
    /// is granted (no permit is then held).
    func acquire() async throws {
        try Task.checkCancellation()
        if inUse < limit && waiters.isEmpty {
            inUse += 1
            highWaterMark = max(highWaterMark, inUse)
            return
        }
        nextID &+= 1
        let id = nextID
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Runs on the actor before suspending: a cancellation that raced ahead of us
                // is seen here, and `cancelWaiter` (enqueued on the actor) runs after this.
                if Task.isCancelled {
                    continuation.resume(throwing: CancellationError())
                    return
                }
                waiters[id] = continuation
                queue.append(id)
            }
        } onCancel: {
            // The handler runs synchronously on the cancelling thread and cannot touch actor
            // state; this short task only hops onto the actor to dequeue the waiter.
            Task { await self.cancelWaiter(id) }
        }
    }

    /// Returns a permit, handing it straight to the longest-waiting task if there is one.
    func release() {
        precondition(inUse > 0, "release() without a matching acquire()")
        while head < queue.count {
            let id = queue[head]
            head += 1
            if let next = waiters.removeValue(forKey: id) {
                compactQueue()
                next.resume()  // the permit passes to `next`; `inUse` is unchanged
                return
            }
        }
        compactQueue()
        inUse -= 1
    }

    /// Runs `body` while holding a permit, releasing it however `body` ends.
    nonisolated func withPermit<Result: Sendable>(
        _ body: @Sendable () async throws -> Result
    ) async throws -> Result {
        try await acquire()
        do {
            let result = try await body()
            await release()
            return result
        } catch {
            await release()
            throw error
        }
    }

    private func cancelWaiter(_ id: UInt64) {
        waiters.removeValue(forKey: id)?.resume(throwing: CancellationError())
    }

    private func compactQueue() {
        if head == queue.count {
            queue.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 64 && head * 2 > queue.count {
            queue.removeFirst(head)
            head = 0
        }
    }
}
