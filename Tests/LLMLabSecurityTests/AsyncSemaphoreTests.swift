import Testing

@testable import LLMLabSecurity

/// Holds tasks inside the semaphore until the test lets them go.
private actor Gate {
    private var isOpen = false
    private var waiting: [CheckedContinuation<Void, Never>] = []

    func wait() async {
        if isOpen { return }
        await withCheckedContinuation { waiting.append($0) }
    }

    func open() {
        isOpen = true
        waiting.forEach { $0.resume() }
        waiting.removeAll()
    }
}

/// Counts tasks inside the critical section and remembers the most seen at once.
private actor InFlight {
    private(set) var current = 0
    private(set) var maximum = 0
    private(set) var entries: [Int] = []

    func enter(_ index: Int) {
        current += 1
        maximum = max(maximum, current)
        entries.append(index)
    }

    func leave() { current -= 1 }
}

/// A broken semaphore tends to hang rather than fail; the time limit turns that into a failure.
@Suite("AsyncSemaphore", .timeLimit(.minutes(1)))
struct AsyncSemaphoreTests {
    @Test("holds exactly `limit` tasks inside and lets the rest in as permits return")
    func boundHolds() async throws {
        let semaphore = AsyncSemaphore(limit: 2)
        let gate = Gate()
        let inFlight = InFlight()
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<6 {
                group.addTask {
                    try await semaphore.withPermit {
                        await inFlight.enter(index)
                        await gate.wait()
                        await inFlight.leave()
                    }
                }
            }
            try await eventually { await semaphore.waitingCount == 4 }
            try await eventually { await inFlight.current == 2 }
            #expect(await inFlight.maximum == 2)
            await gate.open()
            try await group.waitForAll()
        }
        #expect(await inFlight.maximum == 2)
        #expect(await inFlight.entries.count == 6)
        #expect(await semaphore.highWaterMark == 2)
        #expect(await semaphore.inUse == 0)
    }

    @Test("waiters are served in arrival order")
    func fifo() async throws {
        let semaphore = AsyncSemaphore(limit: 1)
        let inFlight = InFlight()
        try await semaphore.acquire()
        var tasks: [Task<Void, any Error>] = []
        for index in 1...5 {
            tasks.append(
                Task {
                    try await semaphore.withPermit { await inFlight.enter(index) }
                })
            // Only start the next task once this one is queued, to fix the arrival order.
            try await eventually { await semaphore.waitingCount == index }
        }
        await semaphore.release()
        for task in tasks { try await task.value }
        #expect(await inFlight.entries == [1, 2, 3, 4, 5])
        #expect(await semaphore.inUse == 0)
    }

    @Test("a cancelled waiter leaves the queue with CancellationError and takes no permit")
    func cancellation() async throws {
        let semaphore = AsyncSemaphore(limit: 1)
        try await semaphore.acquire()

        let cancelled = Task { try await semaphore.acquire() }
        try await eventually { await semaphore.waitingCount == 1 }
        let next = Task { try await semaphore.acquire() }
        try await eventually { await semaphore.waitingCount == 2 }

        cancelled.cancel()
        await #expect(throws: CancellationError.self) { try await cancelled.value }
        #expect(await semaphore.waitingCount == 1)

        // The permit skips the cancelled waiter and goes to the next one.
        await semaphore.release()
        try await next.value
        #expect(await semaphore.inUse == 1)
        await semaphore.release()
        #expect(await semaphore.inUse == 0)
        try await semaphore.acquire()
        #expect(await semaphore.inUse == 1)
    }

    @Test("an already-cancelled task does not acquire")
    func cancelledBeforeAcquire() async throws {
        let semaphore = AsyncSemaphore(limit: 1)
        let task = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            try await semaphore.acquire()
        }
        await #expect(throws: CancellationError.self) { try await task.value }
        #expect(await semaphore.inUse == 0)
    }

    @Test("withPermit releases the permit when its body throws")
    func releasesOnError() async throws {
        struct Boom: Error {}
        let semaphore = AsyncSemaphore(limit: 1)
        await #expect(throws: Boom.self) {
            try await semaphore.withPermit { throw Boom() }
        }
        #expect(await semaphore.inUse == 0)
    }
}
