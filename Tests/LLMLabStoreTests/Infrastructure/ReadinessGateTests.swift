import LLMLabStore
import Testing

@Suite("ReadinessGate")
struct ReadinessGateTests {
    @Test("waiters are released when the gate opens, and later waits return at once")
    func opens() async {
        let gate = ReadinessGate()
        #expect(!gate.isOpen)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<3 { group.addTask { await gate.wait() } }
            try? await Task.sleep(for: .milliseconds(20))
            gate.open()
            await group.waitForAll()
        }
        #expect(gate.isOpen)
        await gate.wait()
        gate.open()  // a second open does nothing
        #expect(gate.isOpen)
    }

    @Test("a cancelled waiter returns while the gate stays closed")
    func cancellation() async {
        let gate = ReadinessGate()
        let waiter = Task { await gate.wait(); return Task.isCancelled }
        try? await Task.sleep(for: .milliseconds(20))
        waiter.cancel()
        #expect(await waiter.value)
        #expect(!gate.isOpen)
    }
}
