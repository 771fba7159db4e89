import Foundation
import LLMLabAPI
import LLMLabServer
import Testing

/// `llmlab-server`'s SMTP settings: flags over environment, the password preferably from
/// `LLMLAB_SMTP_URL`, and startup errors that name the flag and never echo the password.
@Suite("SMTP server configuration")
struct SMTPServerConfigurationTests {
    static let home = FileManager.default.temporaryDirectory.appendingPathComponent("llmlab-smtp-config-\(UUID().uuidString)").path

    @Test("no --smtp-url: no relay; the environment gives one; flags win over it")
    func resolution() throws {
        var flags = ServerFlags()
        flags.home = Self.home
        #expect(try ServerConfiguration.resolve(flags: flags, environment: [:]).smtp == nil)

        let environment = ["LLMLAB_SMTP_URL": "smtp://bot:env%20secret@relay.example:587", "LLMLAB_SMTP_FROM": "alerts@env.example"]
        let fromEnvironment = try #require(try ServerConfiguration.resolve(flags: flags, environment: environment).smtp)
        #expect(fromEnvironment.host == "relay.example" && fromEnvironment.port == 587)
        #expect(fromEnvironment.username == "bot" && fromEnvironment.password == "env secret")
        #expect(fromEnvironment.from == "alerts@env.example" && fromEnvironment.startTLS == .required)

        flags.smtpFrom = "alerts@flag.example"
        flags.smtpStartTLS = "opportunistic"
        let mixed = try #require(try ServerConfiguration.resolve(flags: flags, environment: environment).smtp)
        #expect(mixed.from == "alerts@flag.example" && mixed.startTLS == .opportunistic && mixed.password == "env secret")
    }

    @Test("bad SMTP settings stop the server with a message naming the flag, never the password")
    func errors() {
        var flags = ServerFlags()
        flags.home = Self.home
        for (url, from, mode, caFile) in [
            ("smtp://bot:hunter2@relay.example", nil, nil, nil),
            ("smtp://bot:hunter2@relay.example", "alerts@x.example", "maybe", nil),
            ("smtp://bot:hunter2@relay.example", "alerts@x.example", nil, "/nonexistent/ca.pem"),
            ("imap://bot:hunter2@relay.example", "alerts@x.example", nil, nil),
        ] as [(String, String?, String?, String?)] {
            flags.smtpURL = url
            flags.smtpFrom = from
            flags.smtpStartTLS = mode
            flags.smtpCAFile = caFile
            do {
                _ = try ServerConfiguration.resolve(flags: flags, environment: [:])
                Issue.record("\(url) should not resolve")
            } catch let error as ServerError {
                #expect(error.message.hasPrefix("--smtp-"), "\(error.message)")
                #expect(!error.message.contains("hunter2"))
            } catch {
                Issue.record("unexpected \(error)")
            }
        }
    }
}
