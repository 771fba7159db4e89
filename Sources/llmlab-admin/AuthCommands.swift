import ArgumentParser
import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

/// `login`: exchanges tenant, email and password for a session and saves it for this
/// server address, so later commands need no token.
struct LoginCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "login",
        abstract: "Log in to a tenant and save the session for this server.",
        discussion: """
            The password is never accepted as an argument. It is read from stdin when stdin \
            is not a terminal (echo "$PW" | llmlab-admin login --tenant acme --email a@b.c), \
            otherwise prompted for with echo off. Missing --tenant/--email are prompted for \
            on a terminal. The session is saved in ~/.config/llmlab/credentials.json \
            (or $XDG_CONFIG_HOME/llmlab), mode 0600.
            """
    )

    @Option(help: "The tenant's slug.")
    var tenant: String?

    @Option(help: "Your email address in that tenant.")
    var email: String?

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let settings = try global.connectionSettings()
        let address = settings.address.description
        let store = CredentialStore()
        let previous = store.session(for: address)

        let tenant = try self.tenant ?? Terminal.ask("Tenant", option: "--tenant", default: previous?.tenant)
        let email = try self.email ?? Terminal.ask("Email", option: "--email", default: previous?.email)
        let password = try Terminal.readSecret("Password")

        let request = Llmlab_V1_LoginRequest.with {
            $0.tenant = tenant
            $0.email = email
            $0.password = password
        }
        var response = try await settings.withClient(token: nil) { client in
            try await client.auth.login(request, metadata: client.metadata, options: client.options)
        }
        let principal = response.principal
        let session = SavedSession(
            token: response.sessionToken,
            tenant: principal.tenantSlug.isEmpty ? tenant : principal.tenantSlug,
            email: principal.email.isEmpty ? email : principal.email,
            expiresAt: response.hasExpiresAt ? response.expiresAt.date : nil)
        try store.save(session, for: address)

        if let explicit = CredentialResolver(global: global, address: settings.address).explicitCredential() {
            let name = if case .option = explicit.source { "--token" } else { "LLMLAB_TOKEN" }
            Terminal.note("note: \(name) is set and takes precedence over the saved session")
        }
        // The session secret lives in the credentials file; it is not echoed, also not as JSON.
        response.sessionToken = ""
        try global.output.emit(response) {
            var line = "Logged in to \(session.tenant) as \(session.email) (\(Display.role(principal.role))) at \(address)."
            if let expiresAt = session.expiresAt {
                line += " Session expires \(Display.timestampWithDistance(expiresAt))."
            }
            print(line)
        }
    }
}

/// `logout`: ends the session on the server and forgets it locally.
struct LogoutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "logout",
        abstract: "End the saved session (or the --token/LLMLAB_TOKEN session) and delete it locally."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let settings = try global.connectionSettings()
        let address = settings.address.description
        let store = CredentialStore()
        let saved = store.session(for: address)
        let explicit = CredentialResolver(global: global, address: settings.address).explicitCredential()

        guard let token = explicit?.token ?? saved?.token else {
            try global.output.emit(Llmlab_V1_LogoutResponse()) {
                print("Not logged in to \(address); nothing to do.")
            }
            return
        }
        if token.hasPrefix("llo_") {
            throw AdminError.usage("the operator token is not a session: there is nothing to log out")
        }
        if token.hasPrefix("llk_") {
            throw AdminError.usage("API keys are not sessions: revoke one with `llmlab-admin apikey revoke ID`")
        }

        // A session the server no longer knows (expired, revoked) is as good as logged out.
        let endedEarlier = try await settings.withClient(token: token) { client -> Bool in
            do {
                _ = try await client.auth.logout(
                    Llmlab_V1_LogoutRequest(), metadata: client.metadata, options: client.options)
                return false
            } catch let error as RPCError where error.code == .unauthenticated && error.cause == nil {
                return true
            }
        }
        let usedSavedSession = saved?.token == token
        if usedSavedSession {
            try store.remove(for: address)
        }
        try global.output.emit(Llmlab_V1_LogoutResponse()) {
            let who = usedSavedSession ? saved.map { " (\($0.email) in \($0.tenant))" } ?? "" : ""
            if endedEarlier {
                print("The session\(who) had already ended" + (usedSavedSession ? "; removed it." : "."))
            } else {
                print("Logged out of \(address)\(who).")
            }
        }
    }
}

/// `whoami`: who the resolved credential stands for, and where it came from.
struct WhoAmICommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "whoami",
        abstract: "Show who the current credential stands for."
    )

    @OptionGroup var global: GlobalOptions

    func run() async throws {
        let settings = try global.connectionSettings()
        let credential = try CredentialResolver(global: global, address: settings.address).resolve()
        let principal = try await settings.withClient(token: credential.token) { client in
            try await client.auth.whoAmI(Llmlab_V1_WhoAmIRequest(), metadata: client.metadata, options: client.options)
        }
        try global.output.emit(principal) {
            var details = Details()
            details.add("kind", Display.principalKind(principal.kind))
            if !principal.tenantSlug.isEmpty || !principal.tenantID.isEmpty {
                details.add("tenant", "\(Display.text(principal.tenantSlug)) (\(Display.text(principal.tenantID)))")
            }
            if !principal.email.isEmpty { details.add("email", principal.email) }
            if !principal.userID.isEmpty { details.add("user id", principal.userID) }
            if principal.role != .unspecified { details.add("role", Display.role(principal.role)) }
            if !principal.apiKeyID.isEmpty { details.add("api key id", principal.apiKeyID) }
            if !principal.projectID.isEmpty { details.add("project", principal.projectID) }
            if !principal.scopes.isEmpty { details.add("scopes", Display.list(principal.scopes)) }
            details.add("server", settings.address.description)
            details.add("credential", credential.source.summary)
            details.print()
        }
    }
}
