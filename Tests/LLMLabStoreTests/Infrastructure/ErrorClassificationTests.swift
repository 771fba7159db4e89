import Foundation
import LLMLabStore
import PostgresNIO
import Testing

@Suite("Error classification")
struct ErrorClassificationTests {
    @Test("an unreachable server is a connection failure, not a constraint violation")
    func unreachableServer() async throws {
        let nowhere = DatabaseConfiguration(
            unixSocketPath: "/tmp/llmlab-no-such-dir-\(UUID().uuidString)/.s.PGSQL.5432",
            username: "llmlab",
            database: "llmlab",
            tls: .disable
        )
        let error = await #expect(throws: (any Error).self) {
            try await nowhere.withStandaloneConnection(logger: Infra.logger) { _ in }
        }
        #expect(error.map(isConnectionFailure) == true)
        #expect(error.map(isUniqueViolation) == false)
        #expect(error.flatMap(postgresSQLState) == nil)
    }

    @Test("StoreError describes itself by code and message")
    func storeErrorDescription() {
        let error = StoreError(code: .conflict, message: "a project named \"x\" already exists")
        #expect(String(describing: error) == "conflict: a project named \"x\" already exists")
    }
}
