import ArgumentParser
import Foundation
import GRPCCore
import LLMLabProto
import SwiftProtobuf

extension ControlClient {
    var billing: Llmlab_V1_BillingService.Client<Transport> { .init(wrapping: client) }
}

/// `billing …`: pull what providers billed (admin APIs, CSV imports) and reconcile it with
/// what LLMLab tracked.
struct BillingCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "billing",
        abstract: "Provider invoices: connect billing APIs, import CSVs, reconcile billed against tracked cost.",
        subcommands: [Connect.self, List.self, Update.self, Delete.self, Sync.self, Runs.self, Import.self, Reconcile.self]
    )

    struct Connect: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Connect a provider's billing API (the credential is stored sealed and never shown again).",
            discussion: """
                openai: an admin key (sk-admin-…); optional --organization, --project.
                anthropic: an admin key (sk-ant-admin…).
                azure: the app registration's client secret as --admin-key, plus --scope \
                (e.g. subscriptions/<id>), --tenant-id and --client-id; optional --token-url.
                Connections sync daily (or --hourly), re-pulling the last few days.
                """
        )

        @Argument(help: "openai, anthropic or azure.")
        var kind: String

        @Argument(help: "A name unique in the tenant.")
        var name: String

        @Option(help: "The admin key (azure: the client secret).")
        var adminKey: String?

        @Option(help: "Read the admin key from this file instead (keeps it out of shell history).")
        var adminKeyFile: String?

        @Option(help: "openai: the organization id (sent as OpenAI-Organization).")
        var organization: String?

        @Option(help: "openai: only this project's costs.")
        var project: String?

        @Option(help: "azure: the Cost Management scope, e.g. subscriptions/<id>.")
        var scope: String?

        @Option(help: "azure: the Entra ID (AAD) tenant id.")
        var tenantId: String?

        @Option(help: "azure: the app registration's client id.")
        var clientId: String?

        @Option(help: "azure: the token endpoint (default login.microsoftonline.com/{tenant}/oauth2/v2.0/token).")
        var tokenUrl: String?

        @Option(help: "Where the provider's billing API lives (a proxy or a test double).")
        var baseUrl: String?

        @Flag(help: "Sync every hour instead of daily.")
        var hourly = false

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard ["openai", "anthropic", "azure"].contains(kind) else {
                throw ValidationError("the kind must be openai, anthropic or azure (got \(kind))")
            }
            guard (adminKey == nil) != (adminKeyFile == nil) else {
                throw ValidationError("give the credential with exactly one of --admin-key or --admin-key-file")
            }
            if kind == "azure" {
                guard scope != nil, tenantId != nil, clientId != nil else {
                    throw ValidationError("azure connections need --scope, --tenant-id and --client-id")
                }
            } else if scope != nil || tenantId != nil || clientId != nil || tokenUrl != nil {
                throw ValidationError("--scope, --tenant-id, --client-id and --token-url are for azure connections")
            }
            if kind != "openai", organization != nil || project != nil {
                throw ValidationError("--organization and --project are for openai connections")
            }
        }

        func run() async throws {
            var credential = adminKey ?? ""
            if let adminKeyFile {
                guard let text = try? String(contentsOfFile: adminKeyFile, encoding: .utf8) else {
                    throw ValidationError("cannot read \(adminKeyFile)")
                }
                credential = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            var settings: [String: String] = [:]
            settings["organization"] = organization
            settings["project_id"] = project
            settings["scope"] = scope
            settings["tenant_id"] = tenantId
            settings["client_id"] = clientId
            settings["token_url"] = tokenUrl
            settings["base_url"] = baseUrl
            let request = Llmlab_V1_CreateBillingConnectionRequest.with {
                $0.kind = kind == "openai" ? .openai : kind == "anthropic" ? .anthropic : .azure
                $0.name = name
                $0.credential = credential
                $0.settings = settings
                $0.schedule = hourly ? .hourly : .daily
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.createConnection(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                BillingView.details(response.connection).print()
                print("")
                print("Pull the last days now with: llmlab-admin billing sync \(response.connection.id)")
            }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List billing connections and their last sync.")

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.listConnections(.init(), metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.connections, emptyText: "No billing connections.") { connections in
                var table = Table("ID", "NAME", "KIND", "KEY", "SCHEDULE", "LAST SYNC", "STATUS", "NEXT", "ERROR")
                for connection in connections {
                    table.add(connection.id, connection.name, BillingView.kind(connection.kind), BillingView.masked(connection.credentialLastFour),
                              connection.disabled ? "disabled" : (connection.schedule == .hourly ? "hourly" : "daily"),
                              Display.timestamp(connection.lastSyncAt, isSet: connection.hasLastSyncAt),
                              BillingView.status(connection.lastSyncStatus),
                              Display.timestamp(connection.nextSyncAt, isSet: connection.hasNextSyncAt),
                              connection.lastSyncError)
                }
                return table
            }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Rotate a connection's credential, change its schedule or settings, disable or enable it.",
            discussion: "Its billed lines and run log stay. Any change makes the connection due for a sync at once."
        )

        @Argument(help: "The connection's id (see `billing list`).")
        var id: String

        @Option(help: "A new admin key (azure: client secret).")
        var adminKey: String?

        @Option(help: "Read the new admin key from this file.")
        var adminKeyFile: String?

        @Flag(help: "Sync hourly.")
        var hourly = false

        @Flag(help: "Sync daily.")
        var daily = false

        @Flag(help: "Stop scheduled syncs.")
        var disable = false

        @Flag(help: "Resume scheduled syncs.")
        var enable = false

        @Option(help: ArgumentHelp("Set a setting (repeatable), e.g. --set organization=org-123.", valueName: "key=value"))
        var set: [String] = []

        @Option(help: ArgumentHelp("Remove a setting (repeatable).", valueName: "key"))
        var unset: [String] = []

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard !(adminKey != nil && adminKeyFile != nil) else { throw ValidationError("give at most one of --admin-key and --admin-key-file") }
            guard !(hourly && daily) else { throw ValidationError("give at most one of --hourly and --daily") }
            guard !(disable && enable) else { throw ValidationError("give at most one of --disable and --enable") }
            for pair in set where !pair.contains("=") { throw ValidationError("--set takes key=value (got \(pair))") }
        }

        func run() async throws {
            var credential = adminKey ?? ""
            if let adminKeyFile {
                guard let text = try? String(contentsOfFile: adminKeyFile, encoding: .utf8) else {
                    throw ValidationError("cannot read \(adminKeyFile)")
                }
                credential = text.trimmingCharacters(in: .whitespacesAndNewlines)
            }
            let (set, unset, id) = (set, unset, id)
            let (schedule, disabled): (Llmlab_V1_BillingSchedule, Bool?) = (hourly ? .hourly : daily ? .daily : .unspecified,
                                                                             disable ? true : enable ? false : nil)
            let response = try await global.withAuthenticatedClient { client in
                var request = Llmlab_V1_UpdateBillingConnectionRequest.with {
                    $0.id = id
                    $0.credential = credential
                    $0.schedule = schedule
                    if let disabled { $0.disabled = disabled }
                }
                if !set.isEmpty || !unset.isEmpty {
                    // Settings are replaced as a whole: start from the current ones.
                    let current = try await client.billing.listConnections(.init(), metadata: client.metadata, options: client.options)
                    var settings = current.connections.first { $0.id == id }?.settings ?? [:]
                    for key in unset { settings[key] = nil }
                    for pair in set {
                        let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
                        settings[String(parts[0])] = String(parts[1])
                    }
                    request.replaceSettings = true
                    request.settings = settings
                }
                return try await client.billing.updateConnection(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { BillingView.details(response.connection).print() }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Delete a billing connection and the lines it pulled.")

        @Argument(help: "The connection's id (see `billing list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeleteBillingConnectionRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.deleteConnection(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted billing connection \(id).") }
        }
    }

    struct Sync: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Pull a connection's billed cost now (default: the last 3 days), replacing those days.")

        @Argument(help: "The connection's id (see `billing list`).")
        var id: String

        @Option(help: "First UTC day, YYYY-MM-DD.")
        var from: String?

        @Option(help: "Last UTC day, YYYY-MM-DD (included).")
        var to: String?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard (from == nil) == (to == nil) else { throw ValidationError("give both --from and --to, or neither") }
        }

        func run() async throws {
            let request = Llmlab_V1_SyncBillingConnectionRequest.with {
                $0.id = id
                $0.fromDate = from ?? ""
                $0.toDate = to ?? ""
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.syncConnection(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                print("Synced \(response.fromDate)..\(response.toDate): \(response.lines) billed lines, \(Display.usd(response.totalUsd)).")
            }
        }
    }

    struct Runs: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show the sync and import log, newest first.")

        @Option(help: "Only this connection's runs.")
        var connection: String?

        @OptionGroup var limit: LogLimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ListBillingSyncRunsRequest.with {
                $0.connectionID = connection ?? ""
                $0.limit = limit.requested
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.listSyncRuns(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emitList(response.runs, emptyText: "No syncs or imports yet.") { runs in
                var table = Table("STARTED", "SOURCE", "TRIGGER", "DAYS", "STATUS", "LINES", "TOTAL", "ERROR")
                for run in runs {
                    table.add(Display.timestamp(run.startedAt, isSet: run.hasStartedAt), run.source, run.trigger,
                              "\(run.fromDate)..\(run.toDate)", run.status, String(run.lines), Display.usd(run.totalUsd), run.error)
                }
                return table
            }
        }
    }

    struct Import: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Import billed cost from a CSV file.",
            discussion: """
                --format csv: a header row, then date,provider,model,cost_usd[,line_item] (any column \
                order; date YYYY-MM-DD in UTC; provider openai, anthropic, azure_openai or gemini; model \
                may be empty; cost_usd a decimal in US dollars, negative for credits).
                --format gcp-bigquery: the Cloud Billing standard usage cost export saved as CSV; \
                Vertex AI and Gemini API rows are kept, credits subtracted.
                Re-importing replaces the earlier import's lines for the provider days the file covers.
                """
        )

        @Argument(help: "The CSV file.")
        var file: String

        @Option(help: "csv or gcp-bigquery.")
        var format: String = "csv"

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            guard ["csv", "gcp-bigquery"].contains(format) else { throw ValidationError("--format must be csv or gcp-bigquery") }
        }

        func run() async throws {
            guard let content = FileManager.default.contents(atPath: file) else { throw ValidationError("cannot read \(file)") }
            let request = Llmlab_V1_ImportBillingCSVRequest.with {
                $0.format = format == "csv" ? .generic : .gcpBigquery
                $0.content = content
            }
            let response = try await global.withAuthenticatedClient { client in
                try await client.billing.importBillingCSV(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) {
                if response.lines == 0 {
                    print("Imported nothing: the file has no billed LLM lines.")
                } else {
                    print("Imported \(response.lines) billed lines for \(response.fromDate)..\(response.toDate), \(Display.usd(response.totalUsd)).")
                }
            }
        }
    }

    struct Reconcile: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Compare billed with tracked cost per provider, day and model; flagged rows are marked.",
            discussion: """
                DIFF is billed minus tracked (positive: the provider billed more than LLMLab saw); DIFF% is \
                relative to billed. A row is flagged (!) when |DIFF%| exceeds --threshold and |DIFF| is at \
                least --min-diff. Model "(unattributed)" is billed cost the bill does not name a model for.
                """
        )

        @Option(help: "First UTC day, YYYY-MM-DD.")
        var from: String

        @Option(help: "Last UTC day, YYYY-MM-DD (included).")
        var to: String

        @Option(help: "Only this provider: openai, anthropic, azure_openai or gemini.")
        var provider: String?

        @Option(help: "Flag differences above this many percent of billed (default 5).")
        var threshold: String?

        @Option(help: "…and at least this many US dollars (default 0.01).")
        var minDiff: String?

        @Flag(help: "Show only flagged rows.")
        var flaggedOnly = false

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_GetReconciliationRequest.with {
                $0.fromDate = from
                $0.toDate = to
                $0.provider = provider ?? ""
                $0.thresholdPercent = threshold ?? ""
                $0.minimumDifferenceUsd = minDiff ?? ""
            }
            var response = try await global.withAuthenticatedClient { client in
                try await client.billing.getReconciliation(request, metadata: client.metadata, options: client.options)
            }
            if flaggedOnly { response.rows = response.rows.filter(\.flagged) }
            try global.output.emit(response) {
                if response.rows.isEmpty && response.totals.isEmpty {
                    print("Nothing tracked or billed in \(from)..\(to).")
                    return
                }
                print(BillingView.table(response.rows, totals: false).rendered(), terminator: "")
                print("")
                print("Totals (threshold \(response.thresholdPercent)%, at least $\(response.minimumDifferenceUsd)):")
                print(BillingView.table(response.totals, totals: true).rendered(), terminator: "")
            }
        }
    }
}

/// How billing connections and reconciliation rows read; credentials only as last four.
enum BillingView {
    static func kind(_ kind: Llmlab_V1_BillingConnectionKind) -> String {
        switch kind {
        case .openai: "openai"
        case .anthropic: "anthropic"
        case .azure: "azure"
        default: "unknown"
        }
    }

    static func status(_ status: Llmlab_V1_BillingSyncStatus) -> String {
        switch status {
        case .succeeded: "ok"
        case .failed: "failed"
        default: "never"
        }
    }

    static func masked(_ lastFour: String) -> String { lastFour.isEmpty ? Display.none : "…\(lastFour)" }

    static func side(_ side: Llmlab_V1_ReconciliationSide) -> String {
        switch side {
        case .trackedOnly: "tracked only"
        case .billedOnly: "billed only"
        default: ""
        }
    }

    static func table(_ rows: [Llmlab_V1_ReconciliationRow], totals: Bool) -> Table {
        var table = totals
            ? Table("", "PROVIDER", "TRACKED", "BILLED", "DIFF", "DIFF%", "NOTE")
            : Table("", "DAY", "PROVIDER", "MODEL", "TRACKED", "BILLED", "DIFF", "DIFF%", "NOTE")
        for row in rows {
            let flag = row.flagged ? "!" : ""
            let percent = row.differencePercent.isEmpty ? Display.none : row.differencePercent + "%"
            if totals {
                table.add(flag, row.provider, "$" + row.trackedUsd, "$" + row.billedUsd, "$" + row.differenceUsd, percent, side(row.side))
            } else {
                table.add(flag, row.day, row.provider, row.model.isEmpty ? "(unattributed)" : row.model, "$" + row.trackedUsd,
                          "$" + row.billedUsd, "$" + row.differenceUsd, percent, side(row.side))
            }
        }
        return table
    }

    static func details(_ connection: Llmlab_V1_BillingConnection) -> Details {
        var details = Details()
        details.add("ID", connection.id)
        details.add("Name", connection.name)
        details.add("Kind", kind(connection.kind))
        details.add("Key", masked(connection.credentialLastFour))
        details.add("Schedule", (connection.schedule == .hourly ? "hourly" : "daily") + (connection.disabled ? " (disabled)" : ""))
        for key in connection.settings.keys.sorted() { details.add(key, connection.settings[key] ?? "") }
        details.add("Created", Display.timestamp(connection.createdAt, isSet: connection.hasCreatedAt))
        return details
    }
}
