import ArgumentParser
import Foundation

/// The options every command accepts: where the server is, how to trust it, who to be,
/// and how to print. Each falls back to an environment variable and then to what
/// `make run` produces in the current directory, so no flags are needed after it.
struct GlobalOptions: ParsableArguments {
    @Option(help: ArgumentHelp(
        "Server gRPC address host:port (env LLMLAB_ADDRESS; default 127.0.0.1:7443).",
        valueName: "host:port"))
    var address: String?

    @Option(name: .customLong("ca-file"), help: ArgumentHelp(
        "PEM CA certificate that signed the server's certificate (env LLMLAB_CA_FILE; default $LLMLAB_HOME/tls/ca.pem when it exists, else the system trust roots).",
        valueName: "path"))
    var caFile: String?

    @Flag(help: "Connect without TLS, to a server started with --insecure.")
    var insecure = false

    @Option(help: ArgumentHelp(
        "Bearer token to use: session lls_…, API key llk_… or operator llo_… (env LLMLAB_TOKEN; default the session saved by `login`, else $LLMLAB_HOME/operator.token).",
        valueName: "token"))
    var token: String?

    @Option(help: ArgumentHelp(
        "The server's state directory (env LLMLAB_HOME; default ./.llmlab).",
        valueName: "dir"))
    var home: String?

    @Flag(help: "Print the protobuf messages as JSON instead of tables.")
    var json = false

    init() {}

    /// The output mode chosen by `--json`.
    var output: Output { Output(json: json) }

    /// The state directory, absolute.
    var resolvedHome: String {
        let raw = home ?? Environment.value("LLMLAB_HOME") ?? "./.llmlab"
        return Paths.absolute(raw)
    }

    /// Resolves the connection settings; usage errors for malformed values.
    func connectionSettings() throws -> ConnectionSettings {
        let addressText = address ?? Environment.value("LLMLAB_ADDRESS") ?? ConnectionSettings.defaultAddress
        let serverAddress = try ServerAddress(parsing: addressText)
        if insecure {
            return ConnectionSettings(address: serverAddress, security: .plaintext)
        }
        if let explicit = caFile ?? Environment.value("LLMLAB_CA_FILE") {
            let path = Paths.absolute(explicit)
            guard FileManager.default.isReadableFile(atPath: path) else {
                let source = caFile != nil ? "--ca-file" : "LLMLAB_CA_FILE"
                throw AdminError.usage("\(source) \(explicit): no readable file there")
            }
            return ConnectionSettings(address: serverAddress, security: .tls(caFile: path))
        }
        let devCA = resolvedHome + "/tls/ca.pem"
        if FileManager.default.isReadableFile(atPath: devCA) {
            return ConnectionSettings(address: serverAddress, security: .tls(caFile: devCA))
        }
        return ConnectionSettings(address: serverAddress, security: .tls(caFile: nil))
    }
}

/// Environment lookups, treating empty values as unset.
enum Environment {
    static func value(_ name: String) -> String? {
        guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else { return nil }
        return value
    }
}

/// Path helpers.
enum Paths {
    /// `path` made absolute against the current directory, with `~/` expanded.
    static func absolute(_ path: String) -> String {
        var expanded = path
        if expanded == "~" || expanded.hasPrefix("~/") {
            let home = Environment.value("HOME") ?? NSHomeDirectory()
            expanded = home + expanded.dropFirst()
        }
        if expanded.hasPrefix("/") { return URL(fileURLWithPath: expanded).standardizedFileURL.path }
        let base = FileManager.default.currentDirectoryPath
        return URL(fileURLWithPath: base).appendingPathComponent(expanded).standardizedFileURL.path
    }
}

extension GlobalOptions {
    /// Runs `body` with a client that sends the resolved credential (see
    /// `CredentialResolver` for the order).
    func withAuthenticatedClient<Result: Sendable>(
        _ body: (ControlClient) async throws -> Result
    ) async throws -> Result {
        let settings = try connectionSettings()
        let credential = try CredentialResolver(global: self, address: settings.address).resolve()
        return try await settings.withClient(token: credential.token, body)
    }

    /// Runs `body` with a client that sends no credential (Login, Health).
    func withAnonymousClient<Result: Sendable>(
        _ body: (ControlClient) async throws -> Result
    ) async throws -> Result {
        try await connectionSettings().withClient(token: nil, body)
    }
}
