import ArgumentParser
import Foundation
import LLMLabProto
import SwiftProtobuf

/// `apikey …`: LLMLab's own API keys (`llk_…`), for CI, SDKs and the proxy.
struct APIKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apikey",
        abstract: "Create, list, update and revoke LLMLab API keys.",
        subcommands: [Create.self, List.self, Update.self, Revoke.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create an API key; its secret is printed once and never again.")

        @Argument(help: "A name that says what the key is for.")
        var name: String

        @Option(help: "viewer, member, admin or owner (no higher than your own role).")
        var role: RoleArgument

        @Option(help: "Limit the key to one project.")
        var project: String?

        @Option(name: .customLong("expires-in"), help: ArgumentHelp(
            "Lifetime, e.g. 30d, 12h, 90m, 2w or 1d12h (default: no expiry).", valueName: "duration"))
        var expiresIn: LifetimeArgument?

        @Option(help: ArgumentHelp(
            "What the key may be used for, comma-separated: control,proxy,ingest (default control).",
            valueName: "list"))
        var scopes: ScopeList?

        @Option(help: ArgumentHelp("Monthly budget in USD for proxy calls with this key, e.g. 50 or 12.50.", valueName: "usd"))
        var budget: USDArgument?

        @Option(help: ArgumentHelp("Requests per minute through the proxy.", valueName: "n"))
        var rpm: Int?

        @Option(help: ArgumentHelp("Tokens (prompt + completion) per minute through the proxy.", valueName: "n"))
        var tpm: Int?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if let rpm, rpm < 1 { throw ValidationError("--rpm must be at least 1") }
            if let tpm, tpm < 1 { throw ValidationError("--tpm must be at least 1") }
        }

        func run() async throws {
            let request = Llmlab_V1_CreateApiKeyRequest.with {
                if let budget { $0.monthlyBudgetUsd = budget.decimal }
                if let rpm { $0.rpmLimit = Int32(clamping: rpm) }
                if let tpm { $0.tpmLimit = Int32(clamping: tpm) }
                $0.name = name
                $0.role = role.wire
                $0.projectID = project ?? ""
                if let expiresIn {
                    $0.expiresAt = Google_Protobuf_Timestamp(
                        date: Date().addingTimeInterval(TimeInterval(expiresIn.seconds)))
                }
                $0.scopes = scopes?.scopes ?? []
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.auth.createApiKey(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                var details = APIKeyView.details(response.apiKey)
                details.add("secret", response.secret)
                details.print()
            }
            Terminal.note("Copy the secret now: it will not be shown again.")
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List API keys.")

        @Flag(help: "Include revoked keys.")
        var all = false

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let includeRevoked = all
            let keys = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    let page = try await client.auth.listApiKeys(
                        .with {
                            $0.includeRevoked = includeRevoked
                            $0.pageToken = token
                            $0.pageSize = size
                        },
                        metadata: client.metadata, options: client.options)
                    return (page.apiKeys, page.nextPageToken)
                }
            }
            try global.output.emitList(keys, emptyText: "No API keys.") { keys in
                var table = Table(
                    "ID", "NAME", "PREFIX", "ROLE", "PROJECT", "SCOPES", "BUDGET", "RPM", "TPM", "STATUS", "CREATED", "EXPIRES",
                    "LAST USED")
                for key in keys {
                    table.add(
                        key.id, key.name, key.prefix, Display.role(key.role), Display.text(key.projectID),
                        Display.list(key.scopes), APIKeyView.budget(key), APIKeyView.limit(key.rpmLimit),
                        APIKeyView.limit(key.tpmLimit), APIKeyView.status(key),
                        Display.timestamp(key.createdAt, isSet: key.hasCreatedAt),
                        Display.timestamp(key.expiresAt, isSet: key.hasExpiresAt),
                        Display.timestamp(key.lastUsedAt, isSet: key.hasLastUsedAt))
                }
                return table
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change an API key's name or proxy limits; only what you pass changes.")

        @Argument(help: "The key's id (see `apikey list`).")
        var id: String

        @Option(help: "New name.")
        var name: String?

        @Option(help: ArgumentHelp("New monthly budget in USD for proxy calls with this key, e.g. 50 or 12.50.", valueName: "usd"))
        var budget: USDArgument?

        @Flag(name: .customLong("no-budget"), help: "Remove the monthly budget.")
        var noBudget = false

        @Option(help: ArgumentHelp("Requests per minute through the proxy; 0 removes the limit.", valueName: "n"))
        var rpm: Int?

        @Option(help: ArgumentHelp("Tokens (prompt + completion) per minute through the proxy; 0 removes the limit.", valueName: "n"))
        var tpm: Int?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if budget != nil && noBudget {
                throw ValidationError("pass either --budget or --no-budget, not both")
            }
            if let rpm, rpm < 0 { throw ValidationError("--rpm must be 0 (no limit) or more") }
            if let tpm, tpm < 0 { throw ValidationError("--tpm must be 0 (no limit) or more") }
            if name == nil && budget == nil && !noBudget && rpm == nil && tpm == nil {
                throw ValidationError("nothing to change: pass --name, --budget, --no-budget, --rpm or --tpm")
            }
        }

        func run() async throws {
            let request = Llmlab_V1_UpdateApiKeyRequest.with {
                $0.id = id
                if let name { $0.name = name }
                if let budget { $0.monthlyBudgetUsd = budget.decimal }
                if noBudget { $0.monthlyBudgetUsd = "" }
                if let rpm { $0.rpmLimit = Int32(clamping: rpm) }
                if let tpm { $0.tpmLimit = Int32(clamping: tpm) }
            }
            let key = try await global.withAuthenticatedClient { client in
                try await client.auth.updateApiKey(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(key) { APIKeyView.details(key).print() }
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Revoke an API key; calls with it fail from now on.")

        @Argument(help: "The key's id (see `apikey list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_RevokeApiKeyRequest.with { $0.id = id }
            let key = try await global.withAuthenticatedClient { client in
                try await client.auth.revokeApiKey(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(key) { APIKeyView.details(key).print() }
        }
    }
}

/// How one API key reads.
enum APIKeyView {
    static func status(_ key: Llmlab_V1_ApiKey, now: Date = Date()) -> String {
        if key.hasRevokedAt { return "revoked" }
        if key.hasExpiresAt, key.expiresAt.date <= now { return "expired" }
        return "active"
    }

    static func budget(_ key: Llmlab_V1_ApiKey) -> String {
        key.monthlyBudgetUsd.isEmpty ? "none" : "$" + key.monthlyBudgetUsd
    }

    static func limit(_ value: Int32) -> String {
        value > 0 ? String(value) : "none"
    }

    static func details(_ key: Llmlab_V1_ApiKey) -> Details {
        var details = Details()
        details.add("id", key.id)
        details.add("name", key.name)
        details.add("prefix", key.prefix)
        details.add("role", Display.role(key.role))
        details.add("project", key.projectID.isEmpty ? "all projects" : key.projectID)
        details.add("scopes", Display.list(key.scopes))
        details.add("monthly budget", budget(key))
        details.add("rpm limit", limit(key.rpmLimit))
        details.add("tpm limit", limit(key.tpmLimit))
        details.add("status", status(key))
        details.add("created", Display.timestamp(key.createdAt, isSet: key.hasCreatedAt))
        details.add("created by", Display.text(key.createdBy))
        details.add("expires", key.hasExpiresAt ? Display.timestampWithDistance(key.expiresAt.date) : "never")
        if key.hasRevokedAt { details.add("revoked", Display.timestamp(key.revokedAt, isSet: true)) }
        details.add("last used", Display.timestamp(key.lastUsedAt, isSet: key.hasLastUsedAt))
        return details
    }
}
