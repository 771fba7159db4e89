import ArgumentParser
import LLMLabProto
import SwiftProtobuf

/// `price …`: the tenant's price overrides on top of the shipped catalog. Prices are USD
/// per million tokens, exact decimals; an override starts today or later and, once
/// started, only a later override can supersede it.
struct PriceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "price",
        abstract: "Set, list and delete your tenant's price overrides (USD per million tokens).",
        subcommands: [Set.self, List.self, Delete.self]
    )

    struct Set: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Override a model's prices from a day on (today or later, UTC).",
            discussion: """
                Give at least one price; the others keep the catalog's. Setting the same \
                provider, model and day again replaces that override while its day is still \
                ahead. Example: llmlab-admin price set --provider openai --model gpt-4o \
                --from 2030-01-01 --input 2.25 --output 9
                """
        )

        @Option(help: "openai, azure_openai, anthropic or gemini.")
        var provider: ProviderArgument

        @Option(help: "The model id the provider reports.")
        var model: String

        @Option(help: ArgumentHelp("First UTC day the prices apply: today or later.", valueName: "YYYY-MM-DD"))
        var from: DayArgument

        @Option(help: ArgumentHelp("Uncached input tokens.", valueName: "usd"))
        var input: PriceArgument?

        @Option(name: .customLong("cached-input"), help: ArgumentHelp("Input tokens read from a cache.", valueName: "usd"))
        var cachedInput: PriceArgument?

        @Option(name: .customLong("cache-write-5m"), help: ArgumentHelp("Input tokens written to a 5-minute cache.", valueName: "usd"))
        var cacheWrite5m: PriceArgument?

        @Option(name: .customLong("cache-write-1h"), help: ArgumentHelp("Input tokens written to a 1-hour cache.", valueName: "usd"))
        var cacheWrite1h: PriceArgument?

        @Option(help: ArgumentHelp("Output tokens.", valueName: "usd"))
        var output: PriceArgument?

        @Option(help: ArgumentHelp("Reasoning tokens, when billed apart from output.", valueName: "usd"))
        var reasoning: PriceArgument?

        @OptionGroup var global: GlobalOptions

        func validate() throws {
            if [input, cachedInput, cacheWrite5m, cacheWrite1h, output, reasoning].allSatisfy({ $0 == nil }) {
                throw ValidationError("give at least one price: --input, --cached-input, --cache-write-5m, --cache-write-1h, --output or --reasoning")
            }
        }

        func run() async throws {
            let request = Llmlab_V1_SetPriceOverrideRequest.with {
                $0.provider = provider.wire
                $0.model = model
                $0.effectiveFrom = from.text
                $0.prices = .with {
                    $0.input = input?.decimal ?? ""
                    $0.cachedInput = cachedInput?.decimal ?? ""
                    $0.cacheWrite5M = cacheWrite5m?.decimal ?? ""
                    $0.cacheWrite1H = cacheWrite1h?.decimal ?? ""
                    $0.output = output?.decimal ?? ""
                    $0.reasoning = reasoning?.decimal ?? ""
                }
            }
            let override = try await global.withAuthenticatedClient { client in
                try await client.pricing.setPriceOverride(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(override) { PriceOverrideView.details(override).print() }
        }
    }

    struct List: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "List price overrides by provider, model and day.")

        @Option(help: "Only this provider's overrides.")
        var provider: ProviderArgument?

        @Option(help: "Only this model's overrides.")
        var model: String?

        @OptionGroup var page: LimitOption

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let base = Llmlab_V1_ListPriceOverridesRequest.with {
                $0.provider = provider?.wire ?? .unspecified
                $0.model = model ?? ""
            }
            let overrides = try await global.withAuthenticatedClient { client in
                try await Pager.collect(limit: page.limit) { token, size in
                    var request = base
                    request.pageToken = token
                    request.pageSize = size
                    let page = try await client.pricing.listPriceOverrides(
                        request, metadata: client.metadata, options: client.options)
                    return (page.priceOverrides, page.nextPageToken)
                }
            }
            try global.output.emitList(overrides, emptyText: "No price overrides.") { overrides in
                var table = Table("ID", "PROVIDER", "MODEL", "FROM", "IN EFFECT", "INPUT", "CACHED INPUT", "CACHE WRITE 5M",
                                  "CACHE WRITE 1H", "OUTPUT", "REASONING", "SET BY")
                for override in overrides {
                    let prices = override.prices
                    table.add(
                        override.id, Display.provider(override.provider), override.model, override.effectiveFrom,
                        override.inEffect ? "yes" : "no", PriceOverrideView.price(prices.input),
                        PriceOverrideView.price(prices.cachedInput), PriceOverrideView.price(prices.cacheWrite5M),
                        PriceOverrideView.price(prices.cacheWrite1H), PriceOverrideView.price(prices.output),
                        PriceOverrideView.price(prices.reasoning), override.setBy)
                }
                return table
            }
        }
    }

    struct Delete: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Delete a price override whose day is still ahead.")

        @Argument(help: "The override's id (see `price list`).")
        var id: String

        @OptionGroup var global: GlobalOptions

        func run() async throws {
            let request = Llmlab_V1_DeletePriceOverrideRequest.with { $0.id = id }
            let response = try await global.withAuthenticatedClient { client in
                try await client.pricing.deletePriceOverride(request, metadata: client.metadata, options: client.options)
            }
            try global.output.emit(response) { print("Deleted price override \(id).") }
        }
    }
}

/// How one price override reads; prices as the exact decimals the server sent.
enum PriceOverrideView {
    /// `$2.5` per million tokens, or `-` when the catalog's price stays.
    static func price(_ decimal: String) -> String {
        decimal.isEmpty ? Display.none : "$\(decimal)"
    }

    static func details(_ override: Llmlab_V1_PriceOverride) -> Details {
        var details = Details()
        details.add("id", override.id)
        details.add("provider", Display.provider(override.provider))
        details.add("model", override.model)
        details.add("from", override.effectiveFrom)
        details.add("in effect", override.inEffect ? "yes" : "no")
        let prices = override.prices
        for (label, value) in [
            ("input", prices.input), ("cached input", prices.cachedInput), ("cache write 5m", prices.cacheWrite5M),
            ("cache write 1h", prices.cacheWrite1H), ("output", prices.output), ("reasoning", prices.reasoning),
        ] where !value.isEmpty {
            details.add(label, "\(price(value)) / 1M tokens")
        }
        details.add("set by", override.setBy)
        details.add("set at", Display.timestamp(override.setAt, isSet: override.hasSetAt))
        return details
    }
}

extension ControlClient {
    var pricing: Llmlab_V1_PricingService.Client<Transport> { .init(wrapping: client) }
}
