import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `project …`: the units spend, keys and routes are grouped by.
struct ProjectCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "project",
        abstract: "Create, list, show, update and archive projects.",
        subcommands: [Create.self, List.self, Show.self, Update.self, Archive.self]
    )

    struct Create: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Create a project.")

        @Argument(help: "1-100 characters, unique among your live projects.")
        var name: String

        @Option(help: ArgumentHelp("Monthly budget in USD, e.g. 250 or 99.95.", valueName: "usd"))
        var budget: USDArgument?

        @Option(help: ArgumentHelp(
            "Providers the project may use, comma-separated: openai,azure_openai,anthropic,gemini (default all).",
            valueName: "list"))
        var providers: ProviderList?

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_CreateProjectRequest.with {
                $0.name = name
                $0.monthlyBudgetUsd = budget?.decimal ?? ""
                $0.allowedProviders = providers?.providers ?? []
            }
            let project = try await global.withAuthenticatedClient { client in
                try await client.projects.createProject(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(project) { ProjectView.details(project).print() }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List projects.")

        @Flag(help: "Include archived projects.")
        var all = false

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let includeArchived = all
            let projects = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    let page = try await client.projects.listProjects(
                        .with {
                            $0.includeArchived = includeArchived
                            $0.pageToken = token
                            $0.pageSize = size
                        },
                        metadata: client.metadata, options: client.options)
                    return (page.projects, page.nextPageToken)
                }
            }
            try global.output.emitList(projects, emptyText: "No projects.") { projects in
                var table = includeArchived
                    ? Table("ID", "NAME", "BUDGET/MONTH", "PROVIDERS", "CREATED", "ARCHIVED")
                    : Table("ID", "NAME", "BUDGET/MONTH", "PROVIDERS", "CREATED")
                for project in projects {
                    table.add(
                        project.id, project.name, Display.usd(project.monthlyBudgetUsd),
                        Display.providers(project.allowedProviders),
                        Display.timestamp(project.createdAt, isSet: project.hasCreatedAt),
                        Display.timestamp(project.archivedAt, isSet: project.hasArchivedAt))
                }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one project.")

        @Argument(help: "The project's id.")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_GetProjectRequest.with { $0.id = id }
            let project = try await global.withAuthenticatedClient { client in
                try await client.projects.getProject(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(project) { ProjectView.details(project).print() }
        }
    }

    struct Update: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Change a project's name, budget, providers or trace settings; only what you pass changes.")

        @Argument(help: "The project's id.")
        var id: String

        @Option(help: "New name.")
        var name: String?

        @Option(help: ArgumentHelp("New monthly budget in USD.", valueName: "usd"))
        var budget: USDArgument?

        @Flag(name: .customLong("no-budget"), help: "Remove the budget.")
        var noBudget = false

        @Option(help: ArgumentHelp(
            "Replace the allowed providers (comma-separated, or `all`).", valueName: "list"))
        var providers: ProviderList?

        @Option(name: .customLong("capture-content"), help: ArgumentHelp(
            "Store prompts, completions and tool arguments with trace spans: on or off.", valueName: "on|off"))
        var captureContent: OnOffArgument?

        @Option(name: .customLong("trace-retention-days"), help: ArgumentHelp(
            "Keep trace spans this many days (1-3650).", valueName: "days"))
        var traceRetentionDays: Int32?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if budget != nil && noBudget {
                throw ValidationError("pass either --budget or --no-budget, not both")
            }
            if let traceRetentionDays, !(1...3650).contains(traceRetentionDays) {
                throw ValidationError("--trace-retention-days must be between 1 and 3650")
            }
            if name == nil && budget == nil && !noBudget && providers == nil && captureContent == nil && traceRetentionDays == nil {
                throw ValidationError(
                    "nothing to change: pass --name, --budget, --no-budget, --providers, --capture-content or --trace-retention-days")
            }
        }

        func run() async throws {
            let request = Llmlab_V1_UpdateProjectRequest.with {
                $0.id = id
                if let name { $0.name = name }
                if let budget { $0.monthlyBudgetUsd = budget.decimal }
                if noBudget { $0.monthlyBudgetUsd = "" }
                if let providers {
                    $0.replaceAllowedProviders = true
                    $0.allowedProviders = providers.providers
                }
                if let captureContent { $0.captureContent = captureContent.isOn }
                if let traceRetentionDays { $0.traceRetentionDays = traceRetentionDays }
            }
            let project = try await global.withAuthenticatedClient { client in
                try await client.projects.updateProject(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(project) { ProjectView.details(project).print() }
        }
    }

    struct Archive: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Archive a project: it stops accepting traffic and leaves `project list`.")

        @Argument(help: "The project's id.")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_ArchiveProjectRequest.with { $0.id = id }
            let project = try await global.withAuthenticatedClient { client in
                try await client.projects.archiveProject(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(project) { ProjectView.details(project).print() }
        }
    }
}

/// How one project reads as a key/value block.
enum ProjectView {
    static func details(_ project: Llmlab_V1_Project) -> Details {
        var details = Details()
        details.add("id", project.id)
        details.add("name", project.name)
        details.add("budget/month", Display.usd(project.monthlyBudgetUsd))
        details.add("providers", Display.providers(project.allowedProviders))
        details.add("capture content", project.captureContent ? "on" : "off")
        details.add("trace retention", project.traceRetentionDays == 1 ? "1 day" : "\(project.traceRetentionDays) days")
        details.add("created", Display.timestamp(project.createdAt, isSet: project.hasCreatedAt))
        details.add("updated", Display.timestamp(project.updatedAt, isSet: project.hasUpdatedAt))
        if project.hasArchivedAt {
            details.add("archived", Display.timestamp(project.archivedAt, isSet: true))
        }
        return details
    }
}
