import AsyncHTTPClient
import Foundation
import HTTPTypes
import Hummingbird
import LLMLabStore
import Logging
import NIOCore
import NIOHTTP1

/// Calls OpenAI's `POST {base}/chat/completions` for one proxy request and turns the
/// answer into the client's response: the upstream status and body pass through (OpenAI's
/// own errors included), streams chunk by chunk as they arrive.
struct OpenAIChatUpstream: Sendable {
    let client: UpstreamClient
    let configuration: GatewayConfiguration
    let metrics: GatewayMetrics
    let meter: UsageMeter

    static let provider = "openai"

    /// Response headers worth passing back: rate-limit state and OpenAI's request id help
    /// the client; hop-by-hop and cookie headers do not.
    static let forwardedHeaders: Set<String> = [
        "retry-after", "retry-after-ms", "x-request-id", "openai-processing-ms", "openai-version",
        "x-ratelimit-limit-requests", "x-ratelimit-limit-tokens", "x-ratelimit-remaining-requests",
        "x-ratelimit-remaining-tokens", "x-ratelimit-reset-requests", "x-ratelimit-reset-tokens",
    ]

    /// The result of one attempt: a response for the client, or a retryable failure to
    /// fall back from (only when a later candidate may still be tried).
    enum Attempt: Sendable {
        case done(Response, failure: Failure?)
        case fallBack(Failure)
    }

    struct Failure: Sendable {
        var errorClass: UpstreamErrorClass
        var status: Int?
        var retryAfter: Double?
    }

    /// HTTP statuses worth trying another deployment for: 408, 429 and 5xx; never other 4xx.
    static func isRetryable(status: Int) -> Bool {
        status == 408 || status == 429 || status >= 500
    }

    func respond(to body: ChatCompletionRequestBody, plan: UpstreamPlan, health: DeploymentHealthTracker, call: UsageMeter.Call,
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
            for (index, target) in plan.targets.enumerated() {
                let canFallBack = index < plan.targets.count - 1
                call.model = target.model
                call.routeID = target.routeID
                call.deployment = target.deployment
                var deadline = overall
                if let timeout = target.timeout { deadline = min(overall, NIODeadline.now() + TimeAmount(timeout)) }
                let request = makeRequest(body, target: target, context: context)
                let attemptStarted = ContinuousClock.now
                let attempt: Attempt
                do {
                    attempt = body.stream
                        ? try await stream(request, body: body, call: call, deadline: deadline, canFallBack: canFallBack, context: context)
                        : try await complete(request, call: call, deadline: deadline, canFallBack: canFallBack, context: context)
                } catch let error as GatewayError where error.code == "upstream_timeout" || error.code == "upstream_unreachable" {
                    let errorClass: UpstreamErrorClass = error.code == "upstream_timeout" ? .timeout : .connection
                    note(.init(errorClass: errorClass), target: target, call: call, health: health)
                    if canFallBack && NIODeadline.now() < overall {
                        context.logger.info("deployment failed; falling back to the next",
                                            metadata: ["deployment": "\(target.deployment)", "error_class": "\(errorClass.rawValue)"])
                        continue
                    }
                    throw error
                }
                switch attempt {
                case .done(let response, let failure):
                    if let failure {
                        note(failure, target: target, call: call, health: health)
                    } else if let key = target.healthKey {
                        health.recordSuccess(key, tenant: call.key.tenantScope, latency: ContinuousClock.now - attemptStarted)
                    }
                    return response
                case .fallBack(let failure):
                    note(failure, target: target, call: call, health: health)
                    context.logger.info("deployment failed; falling back to the next",
                                        metadata: ["deployment": "\(target.deployment)", "error_class": "\(failure.errorClass.rawValue)",
                                                   "upstream_status": "\(failure.status.map(String.init) ?? "")"])
                    if NIODeadline.now() >= overall {
                        throw GatewayError(.gatewayTimeout, .timeout, "no deployment answered within the proxy's upstream timeout",
                                           code: "upstream_timeout")
                    }
                }
            }
            throw GatewayError(.badGateway, .upstream, "no deployment could serve the request", code: "upstream_unreachable")
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

    private func makeRequest(_ body: ChatCompletionRequestBody, target: UpstreamTarget, context: GatewayRequestContext) -> HTTPClientRequest {
        var request = HTTPClientRequest(url: ProviderBaseURLs.normalized(configuration.providerBaseURLs.openAI) + "/chat/completions")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(target.credential.secret)")
        request.headers.add(name: "content-type", value: "application/json")
        request.headers.add(name: "accept", value: body.stream ? "text/event-stream" : "application/json")
        request.headers.add(name: "user-agent", value: "llmlab-gateway")
        request.headers.add(name: "x-llmlab-request-id", value: context.requestID)
        request.body = .bytes(ByteBuffer(bytes: target.viaRoute ? body.upstreamBody(model: target.model) : body.upstreamBody()))
        return request
    }

    /// A retryable failure described by an upstream response head, or `nil`.
    private static func failure(of head: UpstreamHead) -> Failure? {
        let status = Int(head.status)
        guard isRetryable(status: status) else { return nil }
        let retryAfter = head.headers.first(name: "retry-after").flatMap { Double($0.trimmingCharacters(in: .whitespaces)) }
        return Failure(errorClass: status == 408 ? .timeout : (UpstreamErrorClass.of(status: status) ?? .serverError),
                       status: status, retryAfter: retryAfter)
    }

    // MARK: Non-streaming

    private func complete(_ request: HTTPClientRequest, call: UsageMeter.Call, deadline: NIODeadline, canFallBack: Bool,
                          context: GatewayRequestContext) async throws -> Attempt {
        let client = self.client
        let limit = configuration.maxUpstreamResponseBytes
        let logger = context.logger
        let (head, bytes) = try await callUpstream(context: context) {
            let response = try await client.http.execute(request, deadline: deadline, logger: logger)
            let body = try await response.body.collect(upTo: limit)
            return (UpstreamHead(response), body)
        }
        let status = Int(head.status)
        let failure = Self.failure(of: head)
        if let failure, canFallBack {
            if let errorClass = UpstreamErrorClass.of(status: status) { metrics.recordUpstreamError(provider: Self.provider, errorClass) }
            return .fallBack(failure)
        }
        var outcome = UsageMeter.Outcome(status: status)
        if let errorClass = UpstreamErrorClass.of(status: status) {
            metrics.recordUpstreamError(provider: Self.provider, errorClass)
            outcome.errorClass = errorClass.rawValue
            logger.info("upstream answered with an error; passing it through",
                        metadata: ["provider": "\(Self.provider)", "upstream_status": "\(status)"])
        } else {
            let array = Array(bytes.readableBytesView)
            if let document = try? JSONScanner.document(array), document.kind == .object {
                if let members = try? JSONScanner.members(ofObjectAt: document.range, in: array),
                   let model = members.last(where: { $0.key == "model" }), model.kind == .string {
                    outcome.responseModel = (try? JSONScanner.string(at: model.value, in: array)) ?? ""
                }
                outcome.usage = ChatCompletionUsage.extract(fromObjectAt: document.range, in: array)
            }
            if let usage = outcome.usage {
                logUsage(usage, streamed: false, logger: logger)
            } else {
                logger.warning("upstream response carried no readable usage", metadata: ["provider": "\(Self.provider)"])
            }
        }
        let event = await meter.record(call, outcome, logger: logger)
        var headers = head.forwardedFields(defaultContentType: "application/json")
        headers[GatewayHeaders.costUSD] = event.costUSD ?? "unpriced"
        return .done(Response(status: head.httpStatus, headers: headers, body: ResponseBody(byteBuffer: bytes)), failure: failure)
    }

    // MARK: Streaming

    private func stream(_ request: HTTPClientRequest, body: ChatCompletionRequestBody, call: UsageMeter.Call, deadline: NIODeadline,
                        canFallBack: Bool, context: GatewayRequestContext) async throws -> Attempt {
        let client = self.client
        let limit = configuration.maxUpstreamResponseBytes
        let logger = context.logger
        let response = try await callUpstream(context: context) {
            try await client.http.execute(request, deadline: deadline, logger: logger)
        }
        let head = UpstreamHead(response)
        guard head.status == 200 else {
            // An error before the stream started: fall back (nothing reached the client
            // yet), or pass OpenAI's JSON error through as is.
            let errorClass = UpstreamErrorClass.of(status: Int(head.status))
            if let errorClass {
                metrics.recordUpstreamError(provider: Self.provider, errorClass)
            }
            let bytes = try await callUpstream(context: context) { try await response.body.collect(upTo: limit) }
            let failure = Self.failure(of: head)
            if let failure, canFallBack { return .fallBack(failure) }
            await meter.record(call, .init(status: Int(head.status), errorClass: errorClass?.rawValue ?? "unexpected_status"), logger: logger)
            logger.info("upstream refused the stream; passing its answer through",
                        metadata: ["provider": "\(Self.provider)", "upstream_status": "\(head.status)"])
            return .done(Response(status: head.httpStatus, headers: head.forwardedFields(defaultContentType: "application/json"),
                                  body: ResponseBody(byteBuffer: bytes)), failure: failure)
        }
        var headers = head.forwardedFields(defaultContentType: "text/event-stream")
        headers[.cacheControl] = "no-cache"
        let connection = context.clientConnection
        let strip = body.needsInjectedUsage
        let metrics = self.metrics
        let meter = self.meter
        return .done(Response(status: .ok, headers: headers, body: ResponseBody { writer in
            let transfer = WriterTransfer(writer: writer)
            let progress = StreamProgress()
            do {
            try await connection.cancellingOnClose {
                var writer = transfer.writer
                var relay = ChatStreamRelay(stripUsageChunk: strip)
                var upstream = response.body.makeAsyncIterator()
                var firstByteAt: ContinuousClock.Instant?
                var brokenClass: String?
                while true {
                    // Failures reading upstream are the provider's; failures writing to the
                    // client propagate (the client is gone, nobody to tell).
                    let out: [UInt8]
                    do {
                        guard let piece = try await upstream.next() else {
                            out = relay.finish()
                            if !out.isEmpty { try await writer.write(ByteBuffer(bytes: out)) }
                            break
                        }
                        out = try relay.consume(piece.readableBytesView)
                        progress.note(relay)
                    } catch let error where !(error is CancellationError) && !Task.isCancelled {
                        // The stream broke off. Say so in the stream's own terms (the SDKs
                        // raise on an `error` event) rather than cutting it short silently.
                        let errorClass = error is SSEEventFramer.EventTooLarge ? .invalidResponse : UpstreamErrorClass.of(error)
                        metrics.recordUpstreamError(provider: Self.provider, errorClass)
                        logger.warning("upstream stream broke off", metadata: ["provider": "\(Self.provider)", "error": "\(error)"])
                        let failure = GatewayError(.badGateway, .upstream,
                                                   "the provider's stream broke off (\(errorClass.rawValue)); the response is incomplete",
                                                   code: "upstream_stream_interrupted")
                        brokenClass = errorClass.rawValue
                        try await writer.write(ByteBuffer(string: "data: \(failure.body)\n\n"))
                        break
                    }
                    if !out.isEmpty {
                        if firstByteAt == nil {
                            firstByteAt = .now
                            progress.firstByteAt = firstByteAt
                        }
                        try await writer.write(ByteBuffer(bytes: out))
                    }
                    // `[DONE]` is the end for the client (the SDKs hang up on reading it):
                    // settle now rather than wait for the provider's end of body, which a
                    // closing client would otherwise cancel before the usage is recorded.
                    if relay.sawDone { break }
                }
                if let usage = relay.usage {
                    logUsage(usage, streamed: true, logger: logger)
                } else {
                    logger.warning("stream ended without a usage chunk", metadata: ["provider": "\(Self.provider)"])
                }
                progress.recorded = true
                await meter.record(call, .init(status: brokenClass == nil ? 200 : 502, errorClass: brokenClass ?? "",
                                               responseModel: relay.responseModel, usage: relay.usage, firstByteAt: firstByteAt),
                                   logger: logger)
                try await writer.finish(nil)
            }
            } catch {
                // The client went away. After `[DONE]` it had the whole stream: bill it.
                // Before, record what is known as a disconnect.
                if !progress.recorded {
                    let outcome: UsageMeter.Outcome = progress.sawDone
                        ? .init(status: 200, errorClass: "", responseModel: progress.responseModel, usage: progress.usage,
                                firstByteAt: progress.firstByteAt)
                        : .init(status: 499, errorClass: "client_disconnected", firstByteAt: progress.firstByteAt)
                    await meter.record(call, outcome, logger: logger)
                }
                throw error
            }
        }), failure: nil)
    }

    // MARK: Shared

    /// Runs an upstream step, cancelled if the client disconnects; maps transport failures
    /// to OpenAI-style errors (504 for timeouts, 502 otherwise) and counts them.
    private func callUpstream<T: Sendable>(context: GatewayRequestContext, _ operation: @escaping @Sendable () async throws -> T) async throws -> T {
        do {
            return try await context.clientConnection.cancellingOnClose(operation)
        } catch let error as ClientDisconnected {
            throw error
        } catch is NIOTooManyBytesError {
            metrics.recordUpstreamError(provider: Self.provider, .invalidResponse)
            throw GatewayError(.badGateway, .upstream,
                               "the provider's response exceeded \(configuration.maxUpstreamResponseBytes) bytes", code: "upstream_response_too_large")
        } catch {
            if error is CancellationError || Task.isCancelled { throw error }
            let errorClass = UpstreamErrorClass.of(error)
            metrics.recordUpstreamError(provider: Self.provider, errorClass)
            context.logger.warning("upstream call failed", metadata: ["provider": "\(Self.provider)", "error": "\(error)"])
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

    private func logUsage(_ usage: ChatCompletionUsage, streamed: Bool, logger: Logger) {
        var metadata = Logger.Metadata()
        for (key, value) in usage.logMetadata { metadata[key] = .string(value) }
        metadata["provider"] = .string(Self.provider)
        metadata["streamed"] = .stringConvertible(streamed)
        logger.debug("usage", metadata: metadata)
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

    /// `content-type` and the headers in ``OpenAIChatUpstream/forwardedHeaders``.
    func forwardedFields(defaultContentType: String) -> HTTPFields {
        var fields = HTTPFields()
        fields[.contentType] = headers.first(name: "content-type") ?? defaultContentType
        for header in headers where OpenAIChatUpstream.forwardedHeaders.contains(header.name.lowercased()) {
            if let name = HTTPField.Name(header.name.lowercased()) {
                fields.append(HTTPField(name: name, value: header.value))
            }
        }
        return fields
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

/// What the streaming body task has done, for the cleanup path after it is cancelled.
final class StreamProgress: @unchecked Sendable {
    // Written by the streaming child task, read after it has finished.
    var firstByteAt: ContinuousClock.Instant?
    var recorded = false
    var sawDone = false
    var usage: ChatCompletionUsage?
    var responseModel = ""

    /// Copies what the relay has seen so far, for the cleanup path.
    func note(_ relay: ChatStreamRelay) {
        sawDone = relay.sawDone
        usage = relay.usage
        responseModel = relay.responseModel
    }
}
