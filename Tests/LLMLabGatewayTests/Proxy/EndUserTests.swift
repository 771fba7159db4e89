import Foundation
@testable import LLMLabGateway
import LLMLabStore
import LLMLabTestSupport
import Testing

/// Who a proxied call was for (cost by user): read from each API's body, overridden by the
/// `x-llmlab-user` header, stored on the usage event and in the end-user rollup.
@Suite("End user of a proxied call")
struct EndUserTests {
    static func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    @Test("OpenAI chat: user, else safety_identifier; non-strings and empty ones are ignored")
    func chatBody() throws {
        let base = #""model":"gpt-4o-mini","messages":[{"role":"user","content":"Hi"}]"#
        #expect(try ChatCompletionRequestBody.parse(Self.bytes("{\(base),\"user\":\"alice\"}")).endUser == "alice")
        #expect(try ChatCompletionRequestBody.parse(Self.bytes("{\(base),\"safety_identifier\":\"hash-1\"}")).endUser == "hash-1")
        #expect(try ChatCompletionRequestBody.parse(Self.bytes("{\(base),\"user\":\"\",\"safety_identifier\":\"s\"}")).endUser == "s")
        #expect(try ChatCompletionRequestBody.parse(Self.bytes("{\(base),\"user\":42}")).endUser == "")
        #expect(try ChatCompletionRequestBody.parse(Self.bytes("{\(base)}")).endUser == "")
    }

    @Test("Anthropic messages: metadata.user_id; embeddings: user")
    func otherBodies() throws {
        let messages = #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[{"role":"user","content":"Hi"}],"metadata":{"user_id":"u-7"}}"#
        #expect(try MessagesRequestBody.parse(Self.bytes(messages)).endUser == "u-7")
        let noUser = #"{"model":"claude-sonnet-4-5","max_tokens":16,"messages":[],"metadata":{"user_id":null}}"#
        #expect(try MessagesRequestBody.parse(Self.bytes(noUser)).endUser == "")
        let embeddings = #"{"model":"text-embedding-3-small","input":"hello","user":"bob"}"#
        #expect(try EmbeddingsRequestBody.parse(Self.bytes(embeddings)).endUser == "bob")
    }

    @Test("ids are trimmed of spaces and cut to 128 characters")
    func normalised() {
        #expect(ClientRequest.endUser("  carol\t") == "carol")
        #expect(ClientRequest.endUser("   ") == "")
        #expect(ClientRequest.endUser(String(repeating: "x", count: 500)).count == ClientRequest.maxEndUserLength)
    }

    @Test("through the proxy: the body's user is recorded, the header overrides it, none is \"\"")
    func recorded() async throws {
        try await GatewayHarness.with { harness in
            let alice = try await harness.chat(GatewayHarness.chatBody(extra: #","user":"alice""#), headers: [])
            let bob = try await harness.chat(GatewayHarness.chatBody(extra: #","user":"alice""#), headers: [("x-llmlab-user", "bob")])
            let nobody = try await harness.chat(GatewayHarness.chatBody(), headers: [])
            for reply in [alice, bob, nobody] { #expect(reply.status == 200) }
            await harness.gateway.usageWriter.flush()
            let events = try await UsageTests.events(harness)
            #expect(events.map { $0.endUser ?? "?" }.sorted() == ["", "alice", "bob"])
            let byUser = try await harness.database.database.withTenantTransaction(TenantScope(tenantID: harness.tenantID)) { connection in
                try await UsageAnalyticsRepository(connection, logger: GatewayHarness.logger).groups(
                    AnalyticsFilter(since: Date().addingTimeInterval(-7_200), until: Date().addingTimeInterval(3_600)),
                    groupBy: [.user], limit: 10)
            }
            #expect(Set(byUser.compactMap(\.endUser)) == ["", "alice", "bob"])
            // Each call cost what its own event says (the same response every time).
            let expected = try #require(events.first?.costUSD.flatMap { Decimal(string: $0) })
            #expect(events.allSatisfy { $0.costUSD.flatMap { Decimal(string: $0) } == expected })
            for group in byUser {
                #expect(group.totals.requests == 1)
                #expect(Decimal(string: group.totals.costUSD) == expected)
            }
        }
    }
}
