import AsyncHTTPClient
import Foundation
import LLMLabCore
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import Logging
import NIOCore
import NIOHTTP1
import PostgresNIO
import Testing

/// Usage metering end to end: each proxied call is priced exactly (the expectations are
/// computed here by hand from the catalog's gpt-4o-mini prices), written once to
/// `usage_events`, rolled up into `usage_hourly`, and spooled/replayed when the database
/// cannot take it.
@Suite("Usage and cost")
struct UsageTests {
    /// prompt 1000 of which 200 cached; completion 500 of which 100 reasoning.
    static let usage = """
        {"prompt_tokens":1000,"completion_tokens":500,"total_tokens":1500,\
        "prompt_tokens_details":{"cached_tokens":200,"audio_tokens":0},\
        "completion_tokens_details":{"reasoning_tokens":100,"audio_tokens":0}}
        """

    static func dec(_ text: String) -> Decimal { Decimal(string: text)! }

    /// gpt-4o-mini (catalog, OpenAI, from 2024-07-18): input $0.15, cached input $0.075,
    /// output $0.60 per million tokens; reasoning is billed as output.
    ///   uncached input 800 × 0.15 / 1e6  = 0.00012
    ///   cached input   200 × 0.075 / 1e6 = 0.000015
    ///   output         400 × 0.60 / 1e6  = 0.00024
    ///   reasoning      100 × 0.60 / 1e6  = 0.00006
    ///   total                             = 0.000435
    static let expectedCost: Decimal = {
        let million = dec("1000000")
        let total = dec("800") * dec("0.15") / million + dec("200") * dec("0.075") / million
            + dec("400") * dec("0.60") / million + dec("100") * dec("0.60") / million
        precondition(total == dec("0.000435"))
        return total
    }()

    static func events(_ harness: GatewayHarness, database: Database? = nil) async throws -> [UsageEventRecord] {
        let tenantID = harness.tenantID
        do {
        return try await (database ?? harness.database.database).withTenantTransaction(TenantScope(tenantID: tenantID)) { connection in
            try await UsageEventRepository(connection, logger: GatewayHarness.logger).list(UsageQuery(limit: 1000), tenantID: tenantID)
        }
        } catch { Issue.record("\(String(reflecting: error))"); throw error }
    }

    static func hourly(_ harness: GatewayHarness) async throws -> [UsageHourlyRecord] {
        try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
            try await UsageEventRepository(connection, logger: GatewayHarness.logger).hourly()
        }
    }

    @Test("non-streaming and streaming: one event each, right token classes, exact cost = header")
    func exactCostPerRequest() async throws {
        try await GatewayHarness.with { harness in
            harness.fake.setUsage(Self.usage)
            harness.fake.setModelSuffix("-2024-07-18")
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini"),
                                               headers: [("traceparent", "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")])
            #expect(reply.status == 200)
            let header = try #require(reply.headers.first(name: "x-llmlab-cost-usd"))
            #expect(Self.dec(header) == Self.expectedCost)
            let requestID = try #require(reply.headers.first(name: "x-llmlab-request-id"))

            let streamed = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini", stream: true))
            #expect(streamed.status == 200)
            #expect(!streamed.body.contains(#""choices":[]"#))
            let streamID = try #require(streamed.headers.first(name: "x-llmlab-request-id"))

            await harness.gateway.usageWriter.flush()
            let events = try await Self.events(harness)
            #expect(events.count == 2)
            for (id, isStream) in [(requestID, false), (streamID, true)] {
                let event = try #require(events.first { $0.requestID == id })
                #expect(event.streamed == isStream)
                #expect(event.projectID == harness.projectID)
                #expect(event.model == "gpt-4o-mini")
                #expect(event.responseModel == "gpt-4o-mini-2024-07-18")
                #expect(event.provider == "openai")
                #expect(event.inputTokens == 800)
                #expect(event.cachedInputTokens == 200)
                #expect(event.outputTokens == 400)
                #expect(event.reasoningTokens == 100)
                #expect(event.cacheWrite5mTokens == 0 && event.cacheWrite1hTokens == 0)
                #expect(event.priced)
                #expect(Self.dec(try #require(event.costUSD)) == Self.expectedCost)
                #expect(event.status == 200)
                #expect((event.ttftMs != nil) == isStream)
            }
            #expect(events.first { $0.requestID == requestID }?.traceparent == "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01")

            // The rollup is the sum of the events.
            let hourly = try await Self.hourly(harness)
            #expect(hourly.reduce(0) { $0 + $1.requests } == 2)
            #expect(hourly.reduce(0) { $0 + $1.inputTokens } == 1600)
            #expect(hourly.reduce(0) { $0 + $1.cachedInputTokens } == 400)
            #expect(hourly.reduce(0) { $0 + $1.outputTokens } == 800)
            #expect(hourly.reduce(0) { $0 + $1.reasoningTokens } == 200)
            #expect(hourly.reduce(Decimal(0)) { $0 + Self.dec($1.costUSD) } == Self.expectedCost * 2)

            let metrics = try await harness.get("/metrics")
            #expect(metrics.body.contains(#"llmlab_proxy_cost_usd_total{provider="openai",model="gpt-4o-mini-2024-07-18"}"#))
            #expect(metrics.body.contains("llmlab_usage_queue_depth 0"))
            #expect(metrics.body.contains("llmlab_usage_spool_bytes 0"))
        }
    }

    @Test("an unknown model still succeeds; its event is stored unpriced with the reason, never as zero")
    func unknownModelIsUnpriced() async throws {
        try await GatewayHarness.with { harness in
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "acme-private-model"))
            #expect(reply.status == 200)
            #expect(reply.headers.first(name: "x-llmlab-cost-usd") == "unpriced")
            await harness.gateway.usageWriter.flush()
            let event = try #require(try await Self.events(harness).first)
            #expect(!event.priced)
            #expect(event.costUSD == nil)
            #expect(event.unpricedReason.hasPrefix("unknown_model"))
            #expect(event.inputTokens == 8 && event.cachedInputTokens == 4)
            let hourly = try await Self.hourly(harness)
            #expect(hourly.first?.unpricedRequests == 1)
        }
    }

    @Test("a tenant price override changes the cost")
    func overrideChangesCost() async throws {
        try await GatewayHarness.with { harness in
            try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
                _ = try await PriceOverrideRepository(connection, logger: GatewayHarness.logger).insert(PriceOverrideRecord(
                    id: UUID(), provider: .openai, model: "gpt-4o-mini", effectiveFrom: PriceDate(containing: Date()),
                    prices: PriceSheet(input: try TokenPrice.parse("0.10", field: "input")), setBy: "test"))
            }
            harness.fake.setUsage(Self.usage)
            let reply = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini"))
            // 800 × 0.10 / 1e6 = 0.00008 replaces 0.00012: 0.00008 + 0.000015 + 0.00024 + 0.00006
            let million = Self.dec("1000000")
            let expected = Self.dec("800") * Self.dec("0.10") / million + Self.dec("200") * Self.dec("0.075") / million
                + Self.dec("400") * Self.dec("0.60") / million + Self.dec("100") * Self.dec("0.60") / million
            #expect(expected == Self.dec("0.000395"))
            #expect(Self.dec(try #require(reply.headers.first(name: "x-llmlab-cost-usd"))) == expected)
        }
    }

    @Test("database unreachable: events spool to disk; replay inserts them exactly once and deletes the file")
    func spoolAndReplay() async throws {
        try await GatewayHarness.with(usageDatabase: { real in
            var configuration = real.configuration
            configuration.host = "127.0.0.1"
            configuration.unixSocketPath = nil
            configuration.port = 1  // nothing listens here: connection refused
            return Database(configuration: configuration, logger: GatewayHarness.logger)
        }) { harness in
            harness.fake.setUsage(Self.usage)
            var ids: [String] = []
            for stream in [false, true, false] {
                let reply = try await harness.chat(GatewayHarness.chatBody(model: "gpt-4o-mini", stream: stream))
                #expect(reply.status == 200)
                ids.append(try #require(reply.headers.first(name: "x-llmlab-request-id")))
            }
            let writer = harness.gateway.usageWriter
            await writer.flush()
            let files = writer.spoolFiles()
            #expect(!files.isEmpty)
            let directory = writer.configuration.spoolDirectory
            var attributes = try FileManager.default.attributesOfItem(atPath: directory)
            #expect((attributes[.posixPermissions] as? NSNumber)?.intValue == 0o700)
            var spooled = ""
            for file in files { spooled += try String(contentsOfFile: directory + "/" + file, encoding: .utf8) }
            for id in ids { #expect(spooled.contains(id)) }
            #expect(writer.spoolBytes > 0)
            #expect(try await Self.events(harness).isEmpty)
            let metrics = try await harness.get("/metrics")
            #expect(metrics.body.contains("llmlab_usage_spool_bytes \(writer.spoolBytes)"))

            // Keep a copy to replay a second time.
            let copies = FileManager.default.temporaryDirectory.appendingPathComponent("spool-copy-\(UUID().uuidString)").path
            try FileManager.default.copyItem(atPath: directory, toPath: copies)
            attributes = [:]

            // The database is reachable again (a writer on the real one, same spool).
            let replayer = UsageWriter(database: harness.database.database,
                                       configuration: .init(spoolDirectory: directory), logger: GatewayHarness.logger)
            #expect(await replayer.replaySpool() == 3)
            #expect(replayer.spoolFiles().isEmpty)
            #expect(replayer.spoolBytes == 0)
            let events = try await Self.events(harness)
            #expect(Set(events.map(\.requestID)) == Set(ids))
            #expect(events.allSatisfy { Self.dec($0.costUSD ?? "") == Self.expectedCost })

            // Replaying the same file again inserts nothing and leaves the rollup alone.
            for file in files { try FileManager.default.copyItem(atPath: copies + "/" + file, toPath: directory + "/" + file) }
            #expect(await replayer.replaySpool() == 0)
            #expect(replayer.spoolFiles().isEmpty)
            #expect(try await Self.events(harness).count == 3)
            let hourly = try await Self.hourly(harness)
            #expect(hourly.reduce(0) { $0 + $1.requests } == 3)
            #expect(hourly.reduce(0) { $0 + $1.inputTokens } == 2400)
            #expect(hourly.reduce(Decimal(0)) { $0 + Self.dec($1.costUSD) } == Self.expectedCost * 3)
            try? FileManager.default.removeItem(atPath: copies)
        }
    }
}

extension GatewayHarness {
    func chat(_ body: String, headers: [(String, String)]) async throws -> Reply {
        try await send(request(.POST, "/v1/chat/completions", headers: [("authorization", "Bearer \(proxyKey)")] + headers, body: body))
    }
}
