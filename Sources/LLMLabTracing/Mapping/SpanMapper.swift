import Foundation
public import LLMLabCore

/// Turns received OTLP spans into LLMLab's ``NormalizedSpan``: what the span is, which
/// provider and model, the tokens in our billing classes, our cost from the price catalog
/// (beside any cost the span reported), finish reason, user and session, error flags, and
/// the attributes and events to keep — without message content unless the project
/// captures it.
///
/// Understands OpenTelemetry GenAI semantic conventions (current and pre-1.37 spellings),
/// OpenInference (Arize; LangChain/LangGraph/LlamaIndex instrumentations), Pydantic AI's
/// instrumentation (versions 1–5: event-based and attribute-based messages) and our SDK's
/// `llmlab.*` attributes. Pure: the same input gives the same output.
public struct SpanMapper: Sendable {
    public init() {}

    /// Maps a batch of spans for one tenant. `overrides` are the tenant's price overrides.
    public func map(_ spans: [RawSpan], tenant: TenantIngest, overrides: [PriceOverride],
                    catalog: PriceCatalog = .bundled) -> [NormalizedSpan] {
        spans.map { map($0, tenant: tenant, overrides: overrides, catalog: catalog) }
    }

    /// Maps one span.
    public func map(_ span: RawSpan, tenant: TenantIngest, overrides: [PriceOverride],
                    catalog: PriceCatalog = .bundled) -> NormalizedSpan {
        let reader = SpanAttributeReader(attributes: span.attributes)
        let resource = SpanAttributeReader(attributes: span.resourceAttributes)
        let category = SpanCategoryClassifier.category(of: span, reader)

        let requestModel = reader.string("gen_ai.request.model", "llm.request.model_name", "llm.model_name",
                                         "embedding.model_name", "model_name") ?? ""
        let responseModel = reader.string("gen_ai.response.model", "llm.response.model_name", "llm.model_name",
                                          "embedding.model_name") ?? ""
        let pricedModel = responseModel.isEmpty ? requestModel : responseModel

        let givenProvider = reader.string("gen_ai.provider.name", "llm.provider", "gen_ai.system", "llm.system") ?? ""
        let provider: String
        if givenProvider.isEmpty, category == .llm || category == .embedding,
           let inferred = ProviderNameMapper.inferred(fromModel: pricedModel) {
            provider = inferred.rawValue
        } else {
            provider = ProviderNameMapper.normalized(givenProvider)
        }

        let finishReasons = Self.finishReasons(reader)
        let errors = SpanErrorClassifier.classify(span, reader, category: category, finishReasons: finishReasons)

        // Only model calls are priced and carry tokens: agent and chain spans of several
        // frameworks repeat their children's totals, which would count tokens twice.
        let isModelCall = category == .llm || category == .embedding
        let extracted = isModelCall ? SpanUsageExtractor.extract(reader) : nil
        var costUSD: String?
        var unpricedReason = ""
        if isModelCall {
            switch Self.price(extracted, provider: provider, model: pricedModel, at: Self.date(span.startTimeUnixNano),
                              overrides: overrides, catalog: catalog) {
            case .success(let total): costUSD = total
            case .failure(let reason): unpricedReason = reason.text
            }
        }

        let (attributesJSON, eventsJSON, contentJSON) = Self.documents(span, captureContent: tenant.captureContent,
                                                                        serviceName: resource.string("service.name"))
        return NormalizedSpan(
            traceID: span.traceID, spanID: span.spanID, parentSpanID: span.parentSpanID, projectID: tenant.projectID,
            name: span.name, category: category,
            startTimeUnixNano: span.startTimeUnixNano, endTimeUnixNano: span.endTimeUnixNano,
            isError: errors.isError, errorFlags: errors.flags, errorMessage: errors.message,
            provider: provider, requestModel: requestModel, responseModel: responseModel,
            tokens: extracted?.usage ?? .zero, costUSD: costUSD, unpricedReason: unpricedReason,
            reportedCostUSD: ReportedCostReader.reportedCost(reader),
            finishReason: finishReasons.first ?? "",
            userID: reader.string("llmlab.user_id", "user.id", "enduser.id") ?? resource.string("llmlab.user_id", "user.id", "enduser.id") ?? "",
            sessionID: reader.string("llmlab.session_id", "session.id", "gen_ai.conversation.id")
                ?? resource.string("llmlab.session_id", "session.id") ?? "",
            serviceName: resource.string("service.name") ?? "",
            toolName: category == .tool ? Self.toolName(span, reader) : (reader.string("gen_ai.tool.name", "tool.name") ?? ""),
            attributesJSON: attributesJSON, eventsJSON: eventsJSON, contentJSON: contentJSON)
    }

    // MARK: Parts

    /// `gen_ai.response.finish_reasons` (string array), OpenInference `llm.finish_reason`,
    /// or the first flattened choice's reason (OpenLLMetry / OpenInference messages).
    static func finishReasons(_ reader: SpanAttributeReader) -> [String] {
        for key in ["gen_ai.response.finish_reasons", "llm.finish_reason", "gen_ai.response.finish_reason"] {
            let reasons = reader.strings(key).filter { !$0.isEmpty }
            if !reasons.isEmpty { return reasons }
        }
        if let reason = reader.string("gen_ai.completion.0.finish_reason", "llm.output_messages.0.message.finish_reason") {
            return [reason]
        }
        return []
    }

    static func toolName(_ span: RawSpan, _ reader: SpanAttributeReader) -> String {
        if let name = reader.string("gen_ai.tool.name", "tool.name", "tool_name") { return name }
        if span.name.hasPrefix("execute_tool ") { return String(span.name.dropFirst("execute_tool ".count)) }
        if let message = reader.string("logfire.msg"), message.hasPrefix("running tool: ") {
            return String(message.dropFirst("running tool: ".count))
        }
        return ""
    }

    struct Unpriced: Error {
        let text: String
        init(_ code: String, _ detail: String) { text = "\(code): \(detail)" }
    }

    /// Our cost as decimal text, or why there is none ("code: explanation").
    static func price(_ extracted: ExtractedUsage?, provider: String, model: String, at time: Date,
                      overrides: [PriceOverride], catalog: PriceCatalog) -> Result<String, Unpriced> {
        guard let extracted else {
            return .failure(Unpriced("no_usage", "the span reports no token counts"))
        }
        if let problem = extracted.problem {
            return .failure(Unpriced("invalid_usage", problem))
        }
        guard !model.isEmpty else {
            return .failure(Unpriced("no_model", "the span names no model (gen_ai.response.model, gen_ai.request.model, llm.model_name)"))
        }
        guard let known = Provider(rawValue: provider) else {
            let shown = provider.isEmpty ? "none given" : "\"\(provider)\""
            let supported = Provider.allCases.map(\.rawValue).joined(separator: ", ")
            return .failure(Unpriced("unknown_provider", "provider \(shown) is not priced; LLMLab prices \(supported)"))
        }
        switch CostCalculator.cost(provider: known, model: model, usage: extracted.usage, at: time,
                                   overrides: overrides, catalog: catalog) {
        case .priced(let total, _, _): return .success(total.description)
        case .unpriced(let reason): return .failure(Unpriced(reason.code, reason.description))
        }
    }

    static func date(_ unixNanos: UInt64) -> Date {
        Date(timeIntervalSince1970: TimeInterval(unixNanos / 1_000_000_000) + TimeInterval(unixNanos % 1_000_000_000) / 1e9)
    }

    /// `attributesJSON`, `eventsJSON` and `contentJSON`, content-filtered per the project.
    static func documents(_ span: RawSpan, captureContent: Bool,
                          serviceName: String?) -> (attributes: String, events: String, content: String) {
        var kept: [String: String] = [:]
        for (key, value) in span.attributes where captureContent || !SpanContentPolicy.isContent(key) {
            kept[key] = SpanJSONWriter.encode(value)
        }
        if let serviceName, kept["service.name"] == nil {
            kept["service.name"] = SpanJSONWriter.quoted(serviceName)
        }

        var events: [String] = []
        var contentEvents: [String] = []
        for event in span.events {
            let isContentEvent = SpanContentPolicy.isContentEvent(event.name)
            let attributes = event.attributes.filter { key, _ in
                if captureContent { return true }
                if isContentEvent { return SpanContentPolicy.eventMetadataKeys.contains(key) }
                return !SpanContentPolicy.isContent(key)
            }
            let encoded = "{\"attributes\":" + SpanJSONWriter.encode(.map(attributes))
                + ",\"name\":" + SpanJSONWriter.quoted(event.name)
                + ",\"time_unix_nano\":\"\(event.timeUnixNano)\"}"
            events.append(encoded)
            if captureContent && (isContentEvent || attributes.keys.contains(where: SpanContentPolicy.isContent)) {
                contentEvents.append(encoded)
            }
        }
        let content = captureContent ? SpanContentPolicy.contentJSON(attributes: span.attributes, contentEvents: contentEvents) : ""
        return (SpanJSONWriter.object(kept), SpanJSONWriter.array(events), content)
    }
}
