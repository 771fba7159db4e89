import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// The throw-away tenant a run measures against: a unique `bench-…` slug, its owner, one
/// viewer account per concurrent client (so no two clients sign in as the same account,
/// and per-account throttling stays out of the picture), and a fixed number of projects
/// for ListProjects to return. Deleted at the end so repeated runs do not accumulate.
struct BenchFixture: Sendable {
    struct Account: Sendable {
        var email: String
        /// A session from set-up, used by the read benchmark.
        var sessionToken: String
    }

    let slug: String
    let password: String
    let accounts: [Account]
    let projectCount: Int

    /// Creates the tenant and everything in it. When any step fails the tenant is
    /// deleted again before the error is rethrown.
    static func create(
        connection: BenchConnection, operatorToken: String, users: Int, projects: Int
    ) async throws -> BenchFixture {
        let slug = "bench-" + randomString(length: 10, alphabet: "abcdefghijklmnopqrstuvwxyz0123456789")
        let password = randomString(length: 24, alphabet: "ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789")
        let options = connection.callOptions
        return try await connection.withClients(1) { clients in
            let client = clients[0]
            let tenants = Llmlab_V1_TenantService.Client(wrapping: client)
            let auth = Llmlab_V1_AuthService.Client(wrapping: client)
            let userService = Llmlab_V1_UserService.Client(wrapping: client)
            let projectService = Llmlab_V1_ProjectService.Client(wrapping: client)
            let ownerEmail = "owner@\(slug).example"
            _ = try await tenants.createTenant(.with {
                $0.slug = slug
                $0.displayName = "Benchmark \(slug)"
                $0.ownerEmail = ownerEmail
                $0.ownerPassword = password
            }, metadata: BenchConnection.bearer(operatorToken), options: options)
            do {
                let ownerToken = try await auth.login(.with {
                    $0.tenant = slug
                    $0.email = ownerEmail
                    $0.password = password
                }, options: options).sessionToken
                let owner = BenchConnection.bearer(ownerToken)
                var accounts: [Account] = []
                for index in 0..<users {
                    let email = "bench-user-\(index)@\(slug).example"
                    _ = try await userService.addUser(.with {
                        $0.email = email
                        $0.password = password
                        $0.role = .viewer
                    }, metadata: owner, options: options)
                    let token = try await auth.login(.with {
                        $0.tenant = slug
                        $0.email = email
                        $0.password = password
                    }, options: options).sessionToken
                    accounts.append(Account(email: email, sessionToken: token))
                }
                for index in 0..<projects {
                    _ = try await projectService.createProject(.with {
                        $0.name = "bench project \(index)"
                        $0.monthlyBudgetUsd = "100.00"
                    }, metadata: owner, options: options)
                }
                return BenchFixture(slug: slug, password: password, accounts: accounts, projectCount: projects)
            } catch {
                try? await deleteTenant(slug, client: client, operatorToken: operatorToken, options: options)
                throw error
            }
        }
    }

    /// Deletes the tenant, its schema and every session issued during the run.
    func delete(connection: BenchConnection, operatorToken: String) async throws {
        let options = connection.callOptions
        let slug = self.slug
        try await connection.withClients(1) { clients in
            try await Self.deleteTenant(slug, client: clients[0], operatorToken: operatorToken, options: options)
        }
    }

    private static func deleteTenant(
        _ slug: String, client: BenchConnection.Client, operatorToken: String, options: CallOptions
    ) async throws {
        _ = try await Llmlab_V1_TenantService.Client(wrapping: client).deleteTenant(.with {
            $0.slug = slug
            $0.confirmSlug = slug
        }, metadata: BenchConnection.bearer(operatorToken), options: options)
    }

    static func randomString(length: Int, alphabet: String) -> String {
        let characters = Array(alphabet)
        var generator = SystemRandomNumberGenerator()
        return String((0..<length).map { _ in characters.randomElement(using: &generator)! })
    }
}
