import Foundation
import GRPCCore
import LLMLabCore
import LLMLabProto
import LLMLabStore
import LLMLabTestSupport
import PostgresNIO
import SwiftProtobuf
import Testing

@Suite("Health")
struct HealthTests {
    @Test("Check and Watch answer SERVING without a credential; unknown services are NOT_FOUND")
    func health() async throws {
        try await TestControlPlane.with { cp in
            let checked1 = try await cp.health.check(.init())
            #expect(checked1.status == .serving)
            let checked2 = try await cp.health.check(.with { $0.service = "llmlab.v1.ProjectService" })
            #expect(checked2.status == .serving)
            #expect(await rpcCode { _ = try await cp.health.check(.with { $0.service = "nope.Service" }) } == .notFound)
            let first = try await cp.health.watch(.init()) { response in
                for try await message in response.messages { return message.status }
                return .unknown
            }
            #expect(first == .serving)
        }
    }
}
