import Foundation
import LLMLabServer
import Testing

@Suite("HTTP listener configuration")
struct HTTPListenerConfigurationTests {
    @Test("defaults: 127.0.0.1:8080, OpenAI's API, 600 s, 4 MiB")
    func defaults() throws {
        let configuration = try ServerConfiguration.resolve(flags: ServerFlags(), environment: [:])
        #expect(configuration.http.host == "127.0.0.1")
        #expect(configuration.http.port == 8080)
        #expect(configuration.http.openAIBaseURL == "https://api.openai.com/v1")
        #expect(configuration.http.upstreamTimeoutSeconds == 600)
        #expect(configuration.http.maxRequestBytes == 4 * 1024 * 1024)
    }

    @Test("flags win over environment, environment over the config file")
    func precedence() throws {
        let home = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-http-config-\(UUID().uuidString)").path
        try FileManager.default.createDirectory(atPath: home, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: home) }
        try Data(#"{"http_address": "127.0.0.1:9101", "openai_base_url": "http://127.0.0.1:9999/v1", "upstream_timeout_seconds": 30, "max_request_bytes": 1024}"#.utf8)
            .write(to: URL(fileURLWithPath: home + "/server.json"))

        let fromFile = try ServerConfiguration.resolve(flags: ServerFlags(), environment: ["LLMLAB_HOME": home])
        #expect(fromFile.http.port == 9101)
        #expect(fromFile.http.openAIBaseURL == "http://127.0.0.1:9999/v1")
        #expect(fromFile.http.upstreamTimeoutSeconds == 30)
        #expect(fromFile.http.maxRequestBytes == 1024)

        let environment = ["LLMLAB_HOME": home, "LLMLAB_HTTP_ADDRESS": "0.0.0.0:9102", "LLMLAB_OPENAI_BASE_URL": "https://proxy.internal/v1",
                           "LLMLAB_UPSTREAM_TIMEOUT": "45", "LLMLAB_MAX_REQUEST_BYTES": "2048"]
        let fromEnvironment = try ServerConfiguration.resolve(flags: ServerFlags(), environment: environment)
        #expect(fromEnvironment.http.host == "0.0.0.0")
        #expect(fromEnvironment.http.port == 9102)
        #expect(fromEnvironment.http.openAIBaseURL == "https://proxy.internal/v1")
        #expect(fromEnvironment.http.upstreamTimeoutSeconds == 45)
        #expect(fromEnvironment.http.maxRequestBytes == 2048)

        var flags = ServerFlags()
        flags.httpAddress = "127.0.0.1:0"
        flags.upstreamTimeoutSeconds = "5"
        let fromFlags = try ServerConfiguration.resolve(flags: flags, environment: environment)
        #expect(fromFlags.http.port == 0)
        #expect(fromFlags.http.upstreamTimeoutSeconds == 5)
        #expect(fromFlags.http.maxRequestBytes == 2048)
    }

    @Test("bad values are clear errors")
    func errors() {
        for (name, value) in [("LLMLAB_HTTP_ADDRESS", "8080"), ("LLMLAB_OPENAI_BASE_URL", "api.openai.com"),
                              ("LLMLAB_UPSTREAM_TIMEOUT", "0"), ("LLMLAB_MAX_REQUEST_BYTES", "lots")] {
            #expect(throws: ServerError.self, "\(name)=\(value)") {
                try ServerConfiguration.resolve(flags: ServerFlags(), environment: [name: value])
            }
        }
    }

    @Test("Anthropic and Gemini base URLs and --http-tls resolve like the others")
    func providerURLsAndTLS() throws {
        let defaults = try ServerConfiguration.resolve(flags: ServerFlags(), environment: [:])
        #expect(defaults.http.anthropicBaseURL == "https://api.anthropic.com/v1")
        #expect(defaults.http.geminiBaseURL == "https://generativelanguage.googleapis.com/v1beta")
        #expect(defaults.http.tls == false)
        let environment = ["LLMLAB_ANTHROPIC_BASE_URL": "http://127.0.0.1:9001/v1", "LLMLAB_GEMINI_BASE_URL": "http://127.0.0.1:9002/v1beta",
                           "LLMLAB_HTTP_TLS": "1"]
        let fromEnvironment = try ServerConfiguration.resolve(flags: ServerFlags(), environment: environment)
        #expect(fromEnvironment.http.anthropicBaseURL == "http://127.0.0.1:9001/v1")
        #expect(fromEnvironment.http.geminiBaseURL == "http://127.0.0.1:9002/v1beta")
        #expect(fromEnvironment.http.tls)
        var flags = ServerFlags()
        flags.anthropicBaseURL = "https://anthropic.internal/v1"
        #expect(try ServerConfiguration.resolve(flags: flags, environment: environment).http.anthropicBaseURL == "https://anthropic.internal/v1")
        for (name, value) in [("LLMLAB_ANTHROPIC_BASE_URL", "api.anthropic.com"), ("LLMLAB_GEMINI_BASE_URL", "ftp://x")] {
            #expect(throws: ServerError.self, "\(name)=\(value)") {
                try ServerConfiguration.resolve(flags: ServerFlags(), environment: [name: value])
            }
        }
    }
}
