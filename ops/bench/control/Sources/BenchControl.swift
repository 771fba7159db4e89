import ArgumentParser
import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `llmlab-bench-control`: measures (does not assert) the control plane of an already
/// running `llmlab-server` over TLS — sign-in latency and throughput at several client
/// counts, and the throughput of a read RPC (ListProjects). `ops/bench/control.sh` starts
/// a fresh server and runs this against it; `make bench-control` runs that script.
@main
struct BenchControl: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "llmlab-bench-control",
        abstract: "Control-plane benchmarks against a running llmlab-server: Login latency/throughput and ListProjects throughput over TLS.",
        discussion: """
            Creates a throw-away tenant (bench-<random>) with the operator token, one viewer account per \
            concurrent client and --projects projects; runs each phase for --duration seconds; prints a table, \
            writes JSON to --results-dir, and deletes the tenant. Every concurrent client is its own GRPCClient \
            with its own TLS connection (separate callers, not streams multiplexed on one socket).
            """)

    @Option(help: ArgumentHelp("Server gRPC address.", valueName: "host:port"))
    var address = "127.0.0.1:7443"

    @Option(name: .customLong("ca-file"), help: ArgumentHelp("PEM CA that signed the server certificate.", valueName: "path"))
    var caFile: String

    @Option(name: .customLong("operator-token-file"), help: ArgumentHelp("File holding the operator token (llo_…).", valueName: "path"))
    var operatorTokenFile: String

    @Option(help: "Seconds each measured phase runs.")
    var duration: Double = 10

    @Option(name: .customLong("login-concurrency"), help: ArgumentHelp("Comma-separated client counts for the Login phases.", valueName: "list"))
    var loginConcurrency = "1,4,16"

    @Option(name: .customLong("list-clients"), help: "Concurrent clients for the ListProjects phase.")
    var listClients = 16

    @Option(help: "Projects to create (all returned by each ListProjects call).")
    var projects = 20

    @Option(help: "Unmeasured calls each client makes before a phase (connection set-up, TLS).")
    var warmup = 3

    @Option(name: .customLong("results-dir"), help: ArgumentHelp("Where to write control-<timestamp>.json.", valueName: "dir"))
    var resultsDir = "ops/bench/results"

    @Option(name: .customLong("build-config"), help: "Label recorded with the figures: how the server was built (release or debug).")
    var buildConfig = "unknown"

    @Flag(name: .customLong("keep-tenant"), help: "Do not delete the bench tenant at the end (for inspection).")
    var keepTenant = false

    func validate() throws {
        guard duration > 0, duration <= 600 else { throw ValidationError("--duration must be more than 0 and at most 600 seconds") }
        guard (1...256).contains(listClients) else { throw ValidationError("--list-clients must be 1…256") }
        guard (1...500).contains(projects) else { throw ValidationError("--projects must be 1…500 (one page)") }
        guard (0...100).contains(warmup) else { throw ValidationError("--warmup must be 0…100") }
        _ = try parsedLoginConcurrency()
    }

    func parsedLoginConcurrency() throws -> [Int] {
        let values = loginConcurrency.split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil && (1...256).contains($0!) }) else {
            throw ValidationError("--login-concurrency takes comma-separated client counts from 1 to 256, e.g. 1,4,16")
        }
        return values.map { $0! }
    }

    func run() async throws {
        let clock = ContinuousClock()
        let began = clock.now
        let connection = try BenchConnection(address: address, caFile: caFile)
        guard let tokenText = try? String(contentsOfFile: operatorTokenFile, encoding: .utf8) else {
            throw BenchError("cannot read the operator token from \(operatorTokenFile)")
        }
        let operatorToken = tokenText.trimmingCharacters(in: .whitespacesAndNewlines)
        let loginLevels = try parsedLoginConcurrency()
        let users = max(loginLevels.max() ?? 1, listClients)

        var report = BenchReport(
            startedAt: Self.timestamp(), host: ProcessInfo.processInfo.hostName,
            cores: ProcessInfo.processInfo.activeProcessorCount, buildConfiguration: buildConfig,
            server: address, durationSeconds: duration, warmupCallsPerClient: warmup,
            loadAverageAtStart: BenchReport.loadAverage(),
            connectionModel: "one GRPCClient (its own TLS HTTP/2 connection) per concurrent client",
            projectsPerListResponse: projects)

        print("setting up: tenant, \(users) user(s), \(projects) project(s)…")
        let fixture = try await BenchFixture.create(
            connection: connection, operatorToken: operatorToken, users: users, projects: projects)
        report.setupSeconds = PhaseSummary.round(LoadLoop.seconds(clock.now - began))
        print("tenant \(fixture.slug) ready in \(report.setupSeconds) s")

        do {
            for clients in loginLevels {
                print("Login: \(clients) client(s) for \(duration) s…")
                report.login.append(try await loginPhase(clients: clients, fixture: fixture, connection: connection))
            }
            print("ListProjects: \(listClients) client(s) for \(duration) s…")
            report.listProjects.append(try await listPhase(clients: listClients, fixture: fixture, connection: connection))
        } catch {
            if !keepTenant { try? await fixture.delete(connection: connection, operatorToken: operatorToken) }
            throw error
        }
        if keepTenant {
            print("keeping tenant \(fixture.slug) (--keep-tenant)")
        } else {
            try await fixture.delete(connection: connection, operatorToken: operatorToken)
            print("deleted tenant \(fixture.slug)")
        }

        report.totalRuntimeSeconds = PhaseSummary.round(LoadLoop.seconds(clock.now - began))
        print("")
        print(report.table())
        let path = try report.write(to: resultsDir)
        print("results written to \(path)")
        if (report.login + report.listProjects).contains(where: { $0.calls == 0 || $0.abortedWorkers > 0 }) {
            throw BenchError("a phase completed no calls or a client gave up after repeated errors (see above)")
        }
    }

    private var phaseDuration: Duration { .milliseconds(Int64(duration * 1000)) }

    /// `clients` callers, each signing in as its own account with the right password.
    private func loginPhase(clients: Int, fixture: BenchFixture, connection: BenchConnection) async throws -> PhaseSummary {
        let options = connection.callOptions
        let requests = fixture.accounts.prefix(clients).map { account in
            Llmlab_V1_LoginRequest.with {
                $0.tenant = fixture.slug
                $0.email = account.email
                $0.password = fixture.password
            }
        }
        let outcome = try await connection.withClients(clients) { grpcClients in
            let services = grpcClients.map { Llmlab_V1_AuthService.Client(wrapping: $0) }
            return try await LoadLoop.run(workers: clients, duration: phaseDuration, warmupCalls: warmup) { worker in
                let response = try await services[worker].login(requests[worker], options: options)
                guard !response.sessionToken.isEmpty else { throw BenchError("Login returned no session token") }
            }
        }
        return PhaseSummary(name: "Login", concurrency: clients, outcome: outcome)
    }

    /// `clients` callers, each listing the tenant's projects with its own session.
    private func listPhase(clients: Int, fixture: BenchFixture, connection: BenchConnection) async throws -> PhaseSummary {
        let options = connection.callOptions
        let expected = fixture.projectCount
        let credentials = fixture.accounts.prefix(clients).map { BenchConnection.bearer($0.sessionToken) }
        let outcome = try await connection.withClients(clients) { grpcClients in
            let services = grpcClients.map { Llmlab_V1_ProjectService.Client(wrapping: $0) }
            return try await LoadLoop.run(workers: clients, duration: phaseDuration, warmupCalls: warmup) { worker in
                let response = try await services[worker].listProjects(
                    Llmlab_V1_ListProjectsRequest(), metadata: credentials[worker], options: options)
                guard response.projects.count == expected else {
                    throw BenchError("ListProjects returned \(response.projects.count) projects, expected \(expected)")
                }
            }
        }
        return PhaseSummary(name: "ListProjects", concurrency: clients, outcome: outcome)
    }

    static func timestamp() -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime]
        return formatter.string(from: Date())
    }
}
