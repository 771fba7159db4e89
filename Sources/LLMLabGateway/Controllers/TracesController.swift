import HTTPTypes
import Hummingbird
import HummingbirdCore
import NIOCore

/// `POST /v1/traces`: OTLP/HTTP trace export (protobuf or JSON, optionally gzip) with an
/// LLMLab API key that has the `ingest` scope; the key's project receives the spans.
/// Bodies over the configured limit get 413 before they are read whole.
struct TracesController: Sendable {
    let receiver: any TraceExportReceiver
    let maxBodyBytes: Int

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.post("traces") { request, context in try await self.export(request, context: context) }
        return routes
    }

    func export(_ request: Request, context: GatewayRequestContext) async throws -> Response {
        guard let key = context.virtualKey else { throw MissingVirtualKey() }
        if let declared = request.headers[.contentLength].flatMap(Int.init), declared > maxBodyBytes {
            throw Self.tooLarge(maxBodyBytes)
        }
        var request = request
        let body: [UInt8]
        do {
            body = Array(try await request.collectBody(upTo: maxBodyBytes).readableBytesView)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw Self.tooLarge(maxBodyBytes)
        }
        context.observation.record(provider: "otlp", model: "")
        let reply = await receiver.export(
            body, contentType: request.headers[.contentType] ?? "", contentEncoding: request.headers[.contentEncoding],
            tenantID: key.tenantID, projectID: key.projectID)
        var headers: HTTPFields = [.contentType: reply.contentType]
        if let seconds = reply.retryAfterSeconds { headers[.retryAfter] = "\(seconds)" }
        return Response(status: HTTPResponse.Status(code: reply.status), headers: headers,
                        body: ResponseBody(byteBuffer: ByteBuffer(bytes: reply.body)))
    }

    static func tooLarge(_ limit: Int) -> GatewayError {
        GatewayError(.contentTooLarge, .invalidRequest,
                     "the OTLP export is larger than the server's limit of \(limit) bytes; export smaller batches (e.g. a lower max_export_batch_size) or raise --max-trace-bytes",
                     code: "request_too_large")
    }
}
