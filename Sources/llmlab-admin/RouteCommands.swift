import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `route …`: which upstream deployments the proxy sends a project's model alias to.
struct RouteCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "route",
        abstract: "Set, list, show and delete proxy routes, and see each deployment's health.",
        subcommands: [Set.self, List.self, Show.self, Delete.self, Health.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Create the route for a project's model alias, or replace it whole.",
            discussion: """
                Each --deployment names a provider, its model (or Azure deployment name) and a \
                provider key of the project (see `key list`). The proxy tries the lowest \
                priority first and falls back to higher ones; among equal priorities it picks \
                by --strategy (weighted: in proportion to weight; least-latency: the fastest).

                Example: llmlab-admin route set --project P --alias gpt-4o \
                --deployment provider=openai,model=gpt-4o,key=K1,weight=3 \
                --deployment provider=azure_openai,model=gpt4o-eu,key=K2 \
                --deployment provider=anthropic,model=claude-sonnet-4-5,key=K3,priority=1
                """
        )

        @Option(help: "The project's id.")
        var project: String

        @Option(help: ArgumentHelp("The model name apps send, e.g. gpt-4o or chat/default.", valueName: "alias"))
        var alias: String

        @Option(name: .customLong("deployment"), help: ArgumentHelp(
            "A deployment: \(DeploymentArgument.syntax). Repeat for each; at most 20.",
            valueName: "spec"), transform: DeploymentArgument.parse)
        var deployments: [DeploymentArgument] = []

        @Option(help: "weighted (default) or least-latency.")
        var strategy: StrategyArgument?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if deployments.isEmpty {
                throw ValidationError("give at least one --deployment \(DeploymentArgument.syntax)")
            }
        }

        func run() async throws {
            let request = Llmlab_V1_SetRouteRequest.with {
                $0.projectID = project
                $0.alias = alias
                $0.deployments = deployments.map(\.deployment)
                $0.strategy = strategy?.wire ?? .weighted
            }
            let route = try await global.withAuthenticatedClient { client in
                try await client.routes.setRoute(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(route) { RouteView.print(route) }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List routes, by project and alias.")

        @Option(help: "Only this project's routes.")
        var project: String?

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let projectID = project ?? ""
            let routes = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    let page = try await client.routes.listRoutes(
                        .with {
                            $0.projectID = projectID
                            $0.pageToken = token
                            $0.pageSize = size
                        },
                        metadata: client.metadata, options: client.options)
                    return (page.routes, page.nextPageToken)
                }
            }
            try global.output.emitList(routes, emptyText: "No routes.") { routes in
                var table = Table("ID", "PROJECT", "ALIAS", "STRATEGY", "UPDATED", "DEPLOYMENTS")
                for route in routes {
                    table.add(
                        route.id, route.projectID, route.alias, RouteView.strategy(route.strategy),
                        Display.timestamp(route.updatedAt, isSet: route.hasUpdatedAt),
                        route.deployments.map(RouteView.target).joined(separator: ", "))
                }
                return table
            }
        }
    }

    struct Show: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Show one route with its deployments.")

        @Argument(help: "The route's id (see `route list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_GetRouteRequest.with { $0.id = id }
            let route = try await global.withAuthenticatedClient { client in
                try await client.routes.getRoute(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(route) { RouteView.print(route) }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a route; the alias then goes to the first allowed provider that serves it.")

        @Argument(help: "The route's id (see `route list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeleteRouteRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.routes.deleteRoute(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted route \(id).") }
        }
    }

    struct Health: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Show what the proxy recorded about each deployment of a route.")

        @Argument(help: "The route's id (see `route list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_GetRouteHealthRequest.with { $0.id = id }
            let health = try await global.withAuthenticatedClient { client in
                try await client.routes.getRouteHealth(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(health) {
                print("Route \(health.alias) (\(health.routeID))")
                var table = Table("PROVIDER", "MODEL", "KEY", "STATE", "COOLDOWN UNTIL", "FAILURES", "LAST ERROR",
                                  "LAST MS", "P50 MS", "UPDATED")
                for entry in health.deployments {
                    let deployment = entry.deployment
                    table.add(
                        Display.provider(deployment.provider), deployment.model, deployment.providerKeyID,
                        RouteView.state(entry.state),
                        Display.timestamp(entry.cooldownUntil, isSet: entry.hasCooldownUntil),
                        String(entry.consecutiveFailures), Display.text(entry.lastErrorClass),
                        entry.hasLastLatencyMs ? String(entry.lastLatencyMs) : Display.none,
                        entry.hasP50LatencyMs ? String(entry.p50LatencyMs) : Display.none,
                        Display.timestamp(entry.updatedAt, isSet: entry.hasUpdatedAt))
                }
                print(table.rendered(), terminator: "")
            }
        }
    }
}

/// How a route reads: a key/value block, then its deployments in order.
enum RouteView {
    static func print(_ route: Llmlab_V1_Route) {
        var details = Details()
        details.add("id", route.id)
        details.add("project", route.projectID)
        details.add("alias", route.alias)
        details.add("strategy", strategy(route.strategy))
        details.add("created", Display.timestamp(route.createdAt, isSet: route.hasCreatedAt))
        details.add("updated", Display.timestamp(route.updatedAt, isSet: route.hasUpdatedAt))
        details.print()
        Swift.print("")
        var table = Table("#", "PROVIDER", "MODEL", "KEY", "PRIORITY", "WEIGHT", "TIMEOUT", "DEPLOYMENT")
        for (index, deployment) in route.deployments.enumerated() {
            table.add(
                String(index + 1), Display.provider(deployment.provider), deployment.model, deployment.providerKeyID,
                String(deployment.priority), String(deployment.weight),
                deployment.hasTimeoutMs ? "\(deployment.timeoutMs)ms" : "default", deployment.id)
        }
        Swift.print(table.rendered(), terminator: "")
    }

    /// `openai:gpt-4o`, with priority and weight when they are not the defaults.
    static func target(_ deployment: Llmlab_V1_RouteDeployment) -> String {
        var text = "\(Display.provider(deployment.provider)):\(deployment.model)"
        var notes: [String] = []
        if deployment.priority != 0 { notes.append("p\(deployment.priority)") }
        if deployment.weight > 1 { notes.append("w\(deployment.weight)") }
        if !notes.isEmpty { text += " (\(notes.joined(separator: " ")))" }
        return text
    }

    static func strategy(_ strategy: Llmlab_V1_RouteStrategy) -> String {
        switch strategy {
        case .weighted: "weighted"
        case .leastLatency: "least-latency"
        case .unspecified: Display.none
        case .UNRECOGNIZED(let raw): "strategy(\(raw))"
        }
    }

    static func state(_ state: Llmlab_V1_DeploymentState) -> String {
        switch state {
        case .healthy: "healthy"
        case .coolingDown: "cooling down"
        case .unspecified: Display.none
        case .UNRECOGNIZED(let raw): "state(\(raw))"
        }
    }
}

extension ControlClient {
    var routes: Llmlab_V1_RouteService.Client<Transport> { .init(wrapping: client) }
}
