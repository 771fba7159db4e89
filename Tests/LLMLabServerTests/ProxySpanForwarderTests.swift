import Foundation
@testable import LLMLabServer
import LLMLabStore
import LLMLabTracing
import Logging
import Synchronization
import Testing

@Suite("Proxy span forwarder")
struct ProxySpanForwarderTests {
    final class RecordingSink: SpanSink {
        let calls = Mutex<[(TenantIngest, Int)]>([])
        func accept(_ spans: [NormalizedSpan], tenant: TenantIngest) async throws {
            try await Task.sleep(for: .milliseconds(100))  // like the writer's wait for a commit
            calls.withLock { $0.append((tenant, spans.count)) }
        }
    }

    static func event(tenant: UUID, project: UUID, _ n: Int) -> UsageEventRecord {
        UsageEventRecord(tenantID: tenant, requestID: "req_\(String(format: "%032x", n))", occurredAt: Date(), projectID: project,
                         apiKeyID: UUID(), provider: "openai", model: "gpt-4o-mini", costUSD: "0.0001", latencyMs: 5, status: 200,
                         streamed: false)
    }

    @Test("a burst of proxied calls is handed over in one batch per tenant and project, not one wait per call")
    func batches() async throws {
        let sink = RecordingSink()
        let forwarder = ProxySpanForwarder(sink: sink, logger: Logger(label: "test"), interval: .milliseconds(20))
        let (a, b) = (UUID(), UUID())
        let (pa, pb) = (UUID(), UUID())
        for n in 0..<1_000 { forwarder.proxied(Self.event(tenant: n.isMultiple(of: 2) ? a : b, project: n.isMultiple(of: 2) ? pa : pb, n)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await forwarder.run() }
            for _ in 0..<100 where sink.calls.withLock({ $0.reduce(0) { $0 + $1.1 } }) < 1_000 {
                try await Task.sleep(for: .milliseconds(20))
            }
            group.cancelAll()
        }
        let calls = sink.calls.withLock { $0 }
        #expect(calls.reduce(0) { $0 + $1.1 } == 1_000)
        #expect(calls.count == 2)
        #expect(Set(calls.map(\.0.tenantID)) == [a, b])
        #expect(calls.allSatisfy { !$0.0.captureContent })
    }

    @Test("beyond its capacity the buffer drops new spans instead of growing")
    func bounded() async throws {
        let sink = RecordingSink()
        let forwarder = ProxySpanForwarder(sink: sink, logger: Logger(label: "test"), capacity: 10, interval: .milliseconds(20))
        let (tenant, project) = (UUID(), UUID())
        for n in 0..<25 { forwarder.proxied(Self.event(tenant: tenant, project: project, n)) }
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await forwarder.run() }
            for _ in 0..<100 where sink.calls.withLock({ $0.isEmpty }) { try await Task.sleep(for: .milliseconds(20)) }
            group.cancelAll()
        }
        #expect(sink.calls.withLock { $0.map(\.1) } == [10])
    }
}
