import Foundation
import LLMLabCore
import LLMLabStore
import LLMLabTestSupport
import LLMLabTracing
import Logging

/// A test database with one provisioned tenant (two projects) — created the way the control
/// plane creates them — and span builders.
struct TraceStoreFixture: Sendable {
    let test: TestDatabase
    let tenantID: UUID
    let projectID: UUID
    let otherProjectID: UUID
    static let logger = Logger(label: "test.tracing.store")

    var database: Database { test.database }
    var scope: TenantScope { TenantScope(tenantID: tenantID) }

    static func with(_ label: String, _ body: (TraceStoreFixture) async throws -> Void) async throws {
        let test = try await TestPostgres.makeDatabase(label: label)
        do {
            let tenantID = try await createTenant(in: test.database, slug: "acme")
            let projectID = UUID()
            let otherProjectID = UUID()
            try await test.database.withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
                let projects = ProjectRepository(connection, logger: logger)
                _ = try await projects.insert(id: projectID, name: "Agents", budget: nil, allowedProviders: [])
                _ = try await projects.insert(id: otherProjectID, name: "Batch", budget: nil, allowedProviders: [])
            }
            try await body(TraceStoreFixture(test: test, tenantID: tenantID, projectID: projectID, otherProjectID: otherProjectID))
        } catch {
            await test.shutdown()
            throw error
        }
        await test.shutdown()
    }

    static func createTenant(in database: Database, slug: String) async throws -> UUID {
        let tenantID = UUID()
        try await database.withControlTransaction { connection in
            let tenant = try await TenantRepository(connection, logger: logger).insert(
                id: tenantID, slug: slug, displayName: slug.capitalized, wrappedDataKey: Data(repeating: 1, count: 40))
            try await TenantSchemaProvisioner.provision(tenant.scope, on: connection, logger: logger)
        }
        return tenantID
    }

    func inTenant<R: Sendable>(_ body: @Sendable (SpanRepository) async throws -> R) async throws -> R {
        try await database.withTenantTransaction(scope) { connection in
            try await body(SpanRepository(connection, logger: Self.logger))
        }
    }

    func insert(_ spans: [NormalizedSpan]) async throws -> Int {
        try await inTenant { try await $0.insert(spans) }
    }

    /// 2026-01-10T12:00:00Z in Unix nanoseconds, plus `seconds`.
    static func nanos(_ seconds: Double, base: UInt64 = 1_768_046_400_000_000_000) -> UInt64 {
        base + UInt64(seconds * 1e9)
    }

    static func traceID(_ n: Int) -> String { String(format: "%032x", n) }
    static func spanID(_ trace: Int, _ n: Int) -> String { String(format: "%08x%08x", trace, n) }

    static func span(trace: Int, _ n: Int, parent: Int? = nil, project: UUID, name: String = "step",
                     category: SpanCategory = .other, start: Double, end: Double, base: UInt64 = 1_768_046_400_000_000_000,
                     isError: Bool = false, model: String = "", cost: String? = nil, tokens: TokenUsage = .zero,
                     user: String = "", session: String = "", content: String = "") -> NormalizedSpan {
        NormalizedSpan(traceID: traceID(trace), spanID: spanID(trace, n), parentSpanID: parent.map { spanID(trace, $0) } ?? "",
                       projectID: project, name: name, category: category,
                       startTimeUnixNano: nanos(start, base: base), endTimeUnixNano: nanos(end, base: base),
                       isError: isError, errorFlags: isError ? [.apiError] : [], errorMessage: isError ? "HTTP 500" : "",
                       provider: model.isEmpty ? "" : "openai", requestModel: model, responseModel: model.isEmpty ? "" : model + "-2024",
                       tokens: tokens, costUSD: cost, unpricedReason: category == .llm && cost == nil ? "unknown model" : "",
                       userID: user, sessionID: session, serviceName: "agent-svc",
                       attributesJSON: #"{"k":"v"}"#, eventsJSON: "[]", contentJSON: content)
    }
}
