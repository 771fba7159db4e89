import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import LLMLabCore
import LLMLabStore
import Logging
import NIOCore
import NIOHTTP1

/// Serves one proxy call from its candidate deployments: builds each attempt's request
/// through the provider's ``ChatTranslation``, retries a deployment with backoff
/// (honouring `retry-after`), falls back to the next on retryable failures (408, 429, 5xx,
/// 529, timeouts, connection errors — never other 4xx), all within one overall deadline;
/// streams pass through chunk by chunk, and fall back only while nothing has reached the
/// client. Every call is metered exactly once.
struct UpstreamExchange: Sendable {
    let client: UpstreamClient
    let configuration: GatewayConfiguration
    let metrics: GatewayMetrics
    let meter: UsageMeter

    /// Response headers worth passing back: rate-limit state and the provider's request id
    /// help the client; hop-by-hop and cookie headers do not.
    static let forwardedHeaders: Set<String> = [
        "retry-after", "retry-after-ms", "x-request-id", "request-id", "openai-processing-ms", "openai-version",
        "apim-request-id", "x-ms-region",
    ]
    static let forwardedHeaderPrefixes = ["x-ratelimit-", "anthropic-ratelimit-"]

    /// How one attempt at a deployment ended.
    enum Attempt: Sendable {
        /// The client's response: a success, or an error the client should see as is.
        case answered(Response)
        /// A retryable failure. `response` is what the client gets if nothing else is tried.
        case failed(Failure)
    }

    struct Failure: Sendable {
        var errorClass: UpstreamErrorClass
        var status: Int?
        var retryAfter: Double?
        /// The client's answer when this is the last attempt (a provider error passed
        /// through, or a stream that failed before its first byte).
        var response: Response?
        /// Thrown when this is the last attempt and there is no response.
        var error: GatewayError?
    }

    /// HTTP statuses worth another attempt: 408, 429 and 5xx (Anthropic's 529 included).
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500
    }

    func respond(to request: ClientRequest, plan: UpstreamPlan, health: DeploymentHealthTracker, call: UsageMeter.Call,
                 context: GatewayRequestContext) async throws -> Response {
        var call = call
        let overall = NIODeadline.now() + TimeAmount(configuration.upstreamTimeout)
        do {
            if plan.targets.isEmpty, let route = plan.route {
                let until = plan.allCoolingUntil ?? Date().addingTimeInterval(1)
                let seconds = max(1, Int(until.timeIntervalSinceNow.rounded(.up)))
                let when = until.formatted(.iso8601)
                call.routeID = route.id
                throw GatewayError(.serviceUnavailable, .api,
                                   "every deployment of route '\(route.alias)' is cooling down after upstream failures; the proxy will retry it at \(when) (in \(seconds) s)",
                                   code: "deployments_cooling_down", headers: [HTTPField.Name("retry-after")!: "\(seconds)"])
            }
            var parsed: JSONValue?
            var last: Failure?
            for (index, target) in plan.targets.enumerated() {
                let isLastTarget = index == plan.targets.count - 1
                call.provider = target.credential.provider
                call.model = target.viaRoute ? target.model : request.model
                call.routeID = target.routeID
                call.deployment = target.deployment
                context.observation.record(provider: target.credential.provider.rawValue, model: request.model)
                let translation = request.translation(for: target.credential.provider)
                let body: [UInt8]
                if translation.passesRequestThrough {
                    body = request.passthroughBody(target.model)
                } else {
                    if parsed == nil {
                        guard let value = JSONValue.parse(request.bytes) else {
                            throw GatewayError(.badRequest, .invalidRequest, "the request body is not valid JSON", code: "invalid_json")
                        }
                        parsed = value
                    }
                    body = try translation.translateRequest(parsed!, model: target.model, stream: request.stream)
                }
                let upstream = try ProviderEndpoint.request(
                    for: target, operation: request.operation, stream: request.stream, body: body,
                    baseURLs: configuration.providerBaseURLs, requestID: context.requestID,
                    passHeaders: target.credential.provider == .anthropic && request.api == .messages ? request.passHeaders : [])
                var retry = 0
                while true {
                    var deadline = overall
                    if let timeout = target.timeout { deadline = min(overall, NIODeadline.now() + TimeAmount(timeout)) }
                    let started = ContinuousClock.now
                    let attempt = try await self.attempt(upstream, translation: translation, request: request, target: target,
                                                         call: call, deadline: deadline, context: context)
                    switch attempt {
                    case .answered(let response):
                        if let key = target.healthKey {
                            health.recordSuccess(key, tenant: call.key.tenantScope, latency: ContinuousClock.now - started)
                        }
                        return response
                    case .failed(let failure):
                        note(failure, target: target, call: call, health: health)
                        last = failure
                    }
                    guard let failure = last, NIODeadline.now() < overall else { break }
                    // Another go at this deployment: within the retry budget, unless it is
                    // cooling down now, and only if the wait fits in the deadline.
                    let cooling = target.healthKey.flatMap { health.coolingUntil($0, now: Date()) } != nil
                    guard retry < configuration.retry.maxRetries, !cooling,
                          let delay = configuration.retry.delay(retry: retry, retryAfter: failure.retryAfter),
                          NIODeadline.now() + TimeAmount(delay) < overall
                    else { break }
                    context.logger.info("upstream attempt failed; retrying the same deployment",
                                        metadata: ["deployment": "\(target.deployment)", "error_class": "\(failure.errorClass.rawValue)",
                                                   "upstream_status": "\(failure.status.map(String.init) ?? "")", "delay_ms": "\(delay.components.seconds * 1000 + delay.components.attoseconds / 1_000_000_000_000_000)"])
                    try await context.clientConnection.cancellingOnClose { try await Task.sleep(for: delay) }
                    retry += 1
                }
                guard NIODeadline.now() < overall else {
                    throw GatewayError(.gatewayTimeout, .timeout, "no deployment answered within the proxy's upstream timeout",
                                       code: "upstream_timeout")
                }
                if !isLastTarget, let failure = last {
                    context.logger.info("deployment failed; falling back to the next",
                                        metadata: ["deployment": "\(target.deployment)", "error_class": "\(failure.errorClass.rawValue)",
                                                   "upstream_status": "\(failure.status.map(String.init) ?? "")"])
                }
            }
            guard let last else {
                throw GatewayError(.badGateway, .upstream, "no deployment could serve the request", code: "upstream_unreachable")
            }
            if let response = last.response {
                await meter.record(call, .init(status: last.status ?? 502, errorClass: last.errorClass.rawValue), logger: context.logger)
                return response
            }
            throw last.error ?? GatewayError(.badGateway, .upstream, "no deployment could serve the request", code: "upstream_unreachable")
        } catch let error as GatewayError {
            await meter.record(call, .init(status: Int(error.status.code), errorClass: error.code ?? error.kind.rawValue), logger: context.logger)
            throw error
        } catch {
            await meter.record(call, .init(status: 499, errorClass: "client_disconnected"), logger: context.logger)
            throw error
        }
    }

    /// Counts a retryable failure against a route deployment (cooldown, health).
    private func note(_ failure: Failure, target: UpstreamTarget, call: UsageMeter.Call, health: DeploymentHealthTracker) {
        guard let key = target.healthKey else { return }
        health.recordFailure(key, tenant: call.key.tenantScope, errorClass: failure.errorClass.rawValue,
                             retryAfter: failure.errorClass == .rateLimited ? failure.retryAfter : nil)
    }

    /// One attempt; transport failures become ``Attempt/failed(_:)``.
    private func attempt(_ upstream: HTTPClientRequest, translation: any ChatTranslation, request: ClientRequest,
                         target: UpstreamTarget, call: UsageMeter.Call, deadline: NIODeadline,
                         context: GatewayRequestContext) async throws -> Attempt {
        do {
            return request.stream
                ? try await stream(upstream, translation: translation, request: request, target: target, call: call,
                                   deadline: deadline, context: context)
                : try await complete(upstream, translation: translation, target: target, call: call, deadline: deadline,
                                     context: context)
        } catch let error as GatewayError where error.code == "upstream_timeout" || error.code == "upstream_unreachable" {
            return .failed(Failure(errorClass: error.code == "upstream_timeout" ? .timeout : .connection, error: error))
        }
    }

    /// A retryable failure described by an upstream status and headers, or `nil`.
    private static func failure(status: Int, headers: HTTPHeaders) -> Failure? {
        guard isRetryable(status: status) else { return nil }
        var retryAfter = headers.first(name: "retry-after").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        if let milliseconds = headers.first(name: "retry-after-ms").flatMap({ Double($0.trimmingCharacters(in: .whitespaces)) }) {
            retryAfter = milliseconds / 1000
        }
        return Failure(errorClass: status == 408 ? .timeout : (UpstreamErrorClass.of(status: status) ?? .serverError),
                       status: status, retryAfter: retryAfter)
    }

    // MARK: Non-streaming

    private func complete(_ upstream: HTTPClientRequest, translation: any ChatTranslation, target: UpstreamTarget,
                          call: UsageMeter.Call, deadline: NIODeadline, context: GatewayRequestContext) async throws -> Attempt {
        let client = self.client
        let limit = configuration.maxUpstreamResponseBytes
        let logger = context.logger
        let provider = target.credential.provider.rawValue
        let (head, buffer) = try await callUpstream(provider: provider, context: context) {
            let response = try await client.http.execute(upstream, deadline: deadline, logger: logger)
            let body = try await response.body.collect(upTo: limit)
            return (UpstreamHead(response), body)
        }
        let status = Int(head.status)
        let bytes = Array(buffer.readableBytesView)
        if let errorClass = UpstreamErrorClass.of(status: status) {
            metrics.recordUpstreamError(provider: provider, errorClass)
            let answer = Response(status: head.httpStatus, headers: head.forwardedFields(contentType: "application/json"),
                                  body: ResponseBody(byteBuffer: ByteBuffer(bytes: translation.translateError(status: status, body: bytes))))
            if var failure = Self.failure(status: status, headers: head.headers) {
                failure.response = answer
                return .failed(failure)
            }
            logger.info("upstream answered with an error; passing it through",
                        metadata: ["provider": "\(provider)", "upstream_status": "\(status)"])
            await meter.record(call, .init(status: status, errorClass: errorClass.rawValue), logger: logger)
            return .answered(answer)
        }
        let translated: TranslatedResponse
        do {
            translated = try translation.translateResponse(bytes, requestedModel: target.model)
        } catch {
            metrics.recordUpstreamError(provider: provider, .invalidResponse)
            logger.warning("upstream response could not be read", metadata: ["provider": "\(provider)", "error": "\(error)"])
            throw error
        }
        if translated.usage == nil {
            logger.warning("upstream response carried no readable usage",
                           metadata: ["provider": "\(provider)", "problem": "\(translated.usageProblem ?? "absent")"])
        }
        let event = await meter.record(call, .init(status: status, responseModel: translated.responseModel, usage: translated.usage,
                                                   usageProblem: translated.usageProblem), logger: logger)
        var headers = head.forwardedFields(contentType: translation.passesRequestThrough ? nil : "application/json")
        headers[GatewayHeaders.costUSD] = event.costUSD ?? "unpriced"
        return .answered(Response(status: head.httpStatus, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: translated.body))))
    }

    // MARK: Streaming

    private func stream(_ upstream: HTTPClientRequest, translation: any ChatTranslation, request: ClientRequest,
                        target: UpstreamTarget, call: UsageMeter.Call, deadline: NIODeadline,
                        context: GatewayRequestContext) async throws -> Attempt {
        let client = self.client
        let limit = configuration.maxUpstreamResponseBytes
        let logger = context.logger
        let provider = target.credential.provider.rawValue
        let response = try await callUpstream(provider: provider, context: context) {
            try await client.http.execute(upstream, deadline: deadline, logger: logger)
        }
        let head = UpstreamHead(response)
        let status = Int(head.status)
        guard (200..<300).contains(status) else {
            // Refused before the stream started: nothing reached the client yet.
            let errorClass = UpstreamErrorClass.of(status: status)
            if let errorClass { metrics.recordUpstreamError(provider: provider, errorClass) }
            let buffer = try await callUpstream(provider: provider, context: context) { try await response.body.collect(upTo: limit) }
            let answer = Response(status: head.httpStatus, headers: head.forwardedFields(contentType: "application/json"),
                                  body: ResponseBody(byteBuffer: ByteBuffer(bytes: translation.translateError(status: status, body: Array(buffer.readableBytesView)))))
            if var failure = Self.failure(status: status, headers: head.headers) {
                failure.response = answer
                return .failed(failure)
            }
            await meter.record(call, .init(status: status, errorClass: errorClass?.rawValue ?? "unexpected_status"), logger: logger)
            logger.info("upstream refused the stream; passing its answer through",
                        metadata: ["provider": "\(provider)", "upstream_status": "\(status)"])
            return .answered(answer)
        }

        // Read until the translator has model output for the client (not just a stream's
        // preamble: a role-only chunk, `message_start`, pings), so a stream that fails
        // before any of it reaches the client can still go to another attempt.
        let source = UpstreamBodySource(iterator: response.body.makeAsyncIterator())
        let state = StreamState(translator: translation.makeStreamTranslator(includeUsage: request.includeUsage,
                                                                             requestedModel: request.model))
        var first: [UInt8] = []
        var ended = false
        do {
            while !state.translator.isComplete && !request.containsOutput(first) {
                guard let piece = try await callUpstream(provider: provider, context: context, { try await source.next() }) else {
                    first += state.translator.finish()
                    ended = true
                    break
                }
                first += try state.translator.consume(piece.readableBytesView)
                if let streamError = state.translator.streamError {
                    metrics.recordUpstreamError(provider: provider, streamError)
                    logger.warning("upstream stream failed before its first byte", metadata: ["provider": "\(provider)"])
                    return .failed(Failure(errorClass: streamError, status: 200,
                                           response: Response(status: .ok, headers: Self.streamHeaders(head),
                                                              body: ResponseBody(byteBuffer: ByteBuffer(bytes: first)))))
                }
            }
        } catch let error as SSEEventFramer.EventTooLarge {
            metrics.recordUpstreamError(provider: provider, .invalidResponse)
            throw GatewayError.invalidUpstreamResponse(provider, error.description)
        }
        if ended && !state.translator.isComplete && !request.containsOutput(first) {
            // The provider ended its body before any output: nothing was answered.
            metrics.recordUpstreamError(provider: provider, .invalidResponse)
            return .failed(Failure(errorClass: .invalidResponse, status: status,
                                   error: .invalidUpstreamResponse(provider, "the stream ended before any output")))
        }
        state.firstByteAt = .now

        let connection = context.clientConnection
        let metrics = self.metrics
        let meter = self.meter
        let alreadyEnded = ended
        let firstBytes = first
        return .answered(Response(status: head.httpStatus, headers: Self.streamHeaders(head), body: ResponseBody { writer in
            let transfer = WriterTransfer(writer: writer)
            do {
                try await connection.cancellingOnClose {
                    var writer = transfer.writer
                    try await writer.write(ByteBuffer(bytes: firstBytes))
                    state.forwarded = true
                    var brokenClass: String?
                    var ended = alreadyEnded
                    while !ended && !state.translator.isComplete {
                        // Failures reading upstream are the provider's; failures writing to
                        // the client propagate (the client is gone, nobody to tell).
                        let out: [UInt8]
                        do {
                            guard let piece = try await source.next() else {
                                out = state.translator.finish()
                                ended = true
                                if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                                break
                            }
                            out = try state.translator.consume(piece.readableBytesView)
                        } catch let error where !(error is CancellationError) && !Task.isCancelled {
                            // The stream broke off. Say so in the stream's own terms (the SDKs
                            // raise on an error event) rather than cutting it short silently.
                            let errorClass = error is SSEEventFramer.EventTooLarge ? .invalidResponse : UpstreamErrorClass.of(error)
                            metrics.recordUpstreamError(provider: provider, errorClass)
                            logger.warning("upstream stream broke off", metadata: ["provider": "\(provider)", "error": "\(error)"])
                            brokenClass = errorClass.rawValue
                            try await writer.write(ByteBuffer(bytes: request.streamErrorEvent(GatewayError(
                                .badGateway, .upstream, "the provider's stream broke off (\(errorClass.rawValue)); the response is incomplete",
                                code: "upstream_stream_interrupted"))))
                            break
                        }
                        if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                    }
                    if brokenClass == nil, let streamError = state.translator.streamError {
                        metrics.recordUpstreamError(provider: provider, streamError)
                        brokenClass = streamError.rawValue
                    } else if brokenClass == nil, !state.translator.isComplete {
                        // The body ended without the provider's end of stream.
                        metrics.recordUpstreamError(provider: provider, .invalidResponse)
                        logger.warning("upstream stream ended without its end marker", metadata: ["provider": "\(provider)"])
                        brokenClass = UpstreamErrorClass.invalidResponse.rawValue
                        try await writer.write(ByteBuffer(bytes: request.streamErrorEvent(GatewayError(
                            .badGateway, .upstream, "the provider's stream ended early; the response is incomplete",
                            code: "upstream_stream_interrupted"))))
                    }
                    if state.translator.usage == nil {
                        logger.warning("stream ended without usage", metadata: ["provider": "\(provider)"])
                    }
                    state.recorded = true
                    await meter.record(call, state.outcome(status: brokenClass == nil ? 200 : 502, errorClass: brokenClass ?? ""),
                                       logger: logger)
                    try await writer.finish(nil)
                }
            } catch {
                // The client went away. After the stream's end it had everything: bill it.
                // Before, record what is known as a disconnect.
                if !state.recorded {
                    let outcome = state.translator.isComplete
                        ? state.outcome(status: 200, errorClass: "")
                        : state.outcome(status: 499, errorClass: "client_disconnected")
                    await meter.record(call, outcome, logger: logger)
                }
                throw error
            }
        }))
    }

    static func streamHeaders(_ head: UpstreamHead) -> HTTPFields {
        var headers = head.forwardedFields(contentType: "text/event-stream")
        headers[.cacheControl] = "no-cache"
        return headers
    }

    // MARK: Shared

    /// Runs an upstream step, cancelled if the client disconnects; maps transport failures
    /// to OpenAI-style errors (504 for timeouts, 502 otherwise) and counts them.
    private func callUpstream<T: Sendable>(provider: String, context: GatewayRequestContext,
                                           _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await context.clientConnection.cancellingOnClose(operation)
        } catch let error as ClientDisconnected {
            throw error
        } catch is NIOTooManyBytesError {
            metrics.recordUpstreamError(provider: provider, .invalidResponse)
            throw GatewayError(.badGateway, .upstream,
                               "the provider's response exceeded \(configuration.maxUpstreamResponseBytes) bytes", code: "upstream_response_too_large")
        } catch {
            if error is CancellationError || Task.isCancelled { throw error }
            if error is SSEEventFramer.EventTooLarge || error is GatewayError { throw error }
            let errorClass = UpstreamErrorClass.of(error)
            metrics.recordUpstreamError(provider: provider, errorClass)
            context.logger.warning("upstream call failed", metadata: ["provider": "\(provider)", "error": "\(error)"])
            switch errorClass {
            case .timeout:
                throw GatewayError(.gatewayTimeout, .timeout, "the provider did not answer in time; retry, or raise --upstream-timeout",
                                   code: "upstream_timeout")
            default:
                throw GatewayError(.badGateway, .upstream, "the proxy could not reach the provider (\(errorClass.rawValue)); retry shortly",
                                   code: "upstream_unreachable")
            }
        }
    }
}

/// The parts of an upstream response head the proxy uses.
struct UpstreamHead: Sendable {
    var status: UInt
    var headers: HTTPHeaders

    init(_ response: HTTPClientResponse) {
        self.status = response.status.code
        self.headers = response.headers
    }

    var httpStatus: HTTPResponse.Status {
        HTTPResponse.Status(code: Int(status))
    }

    /// The headers in ``UpstreamExchange/forwardedHeaders`` (and prefixes), plus
    /// `content-type`: `contentType` when given (a translated body), else the provider's.
    func forwardedFields(contentType: String?) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = contentType ?? headers.first(name: "content-type") ?? "application/json"
        for header in headers {
            let name = header.name.lowercased()
            guard UpstreamExchange.forwardedHeaders.contains(name)
                    || UpstreamExchange.forwardedHeaderPrefixes.contains(where: { name.hasPrefix($0) }),
                  let field = HTTPField.Name(name)
            else { continue }
            fields.append(HTTPField(name: field, value: header.value))
        }
        return fields
    }
}

/// The upstream body's iterator, shared between the handler (which reads up to the first
/// client byte) and the response body task (which reads the rest).
///
/// `@unchecked Sendable` is safe: the two never run at once — the handler finishes its
/// reads before it returns the response whose body task continues them.
final class UpstreamBodySource: @unchecked Sendable {
    private var iterator: HTTPClientResponse.Body.AsyncIterator

    init(iterator: HTTPClientResponse.Body.AsyncIterator) {
        self.iterator = iterator
    }

    func next() async throws -> ByteBuffer? {
        try await iterator.next()
    }
}

/// Moves the response body writer into the child task that streams the body, so a client
/// disconnect can cancel that task.
///
/// `@unchecked Sendable` is safe here: the writer is used by one task at a time — the
/// streaming child task — while the task that owns it waits for that child and never
/// touches the writer again. (Hummingbird's root body writer is itself `Sendable`; only the
/// `any ResponseBodyWriter` existential does not say so.)
struct WriterTransfer: @unchecked Sendable {
    var writer: any ResponseBodyWriter
}

/// One stream's translator and progress, for the body task and its cleanup path.
///
/// `@unchecked Sendable`: used by one task at a time (the handler until it returns the
/// response, then the body task, then — after that task ended — its cleanup).
final class StreamState: @unchecked Sendable {
    var translator: any StreamTranslator
    var firstByteAt: ContinuousClock.Instant?
    var forwarded = false
    var recorded = false

    init(translator: any StreamTranslator) {
        self.translator = translator
    }

    func outcome(status: Int, errorClass: String) -> UsageMeter.Outcome {
        UsageMeter.Outcome(status: status, errorClass: errorClass, responseModel: translator.responseModel,
                           usage: translator.usage, usageProblem: translator.usageProblem, firstByteAt: firstByteAt)
    }
}
