import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `health`: the standard grpc.health.v1 check, for people and for scripts that wait for
/// the server to come up (exit 0 only when it reports SERVING).
struct HealthCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "health",
        abstract: "Check that the server is serving (grpc.health.v1, service \"\"); exit 1 if not."
    )

    @Option(help: "The service to check; empty means the whole server.")
    var service = ""

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let request = Grpc_Health_V1_HealthCheckRequest.with { $0.service = service }
        let response = try await global.withAnonymousClient { client in
            try await client.health.check(request, metadata: client.metadata, options: client.options)
        }
        try global.output.emit(response) {
            print(Self.name(response.status))
        }
        if response.status != .serving { throw AdminError.negativeResult }
    }

    static func name(_ status: Grpc_Health_V1_HealthCheckResponse.ServingStatus) -> String {
        switch status {
        case .serving: "SERVING"
        case .notServing: "NOT_SERVING"
        case .serviceUnknown: "SERVICE_UNKNOWN"
        case .unknown: "UNKNOWN"
        case .UNRECOGNIZED(let raw): "UNRECOGNIZED(\(raw))"
        }
    }
}
