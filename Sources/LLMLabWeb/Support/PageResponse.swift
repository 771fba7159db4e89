import Foundation
public import Hummingbird
import HTTPTypes
import NIOCore

/// Builds every response the dashboard sends, so the security headers are never forgotten:
/// a strict CSP (no inline script or style, no framing, forms only to this origin),
/// no referrer, no caching of pages (they hold tenant data), and `Server-Timing` with the
/// time the page took on the server (the benchmark reads it).
enum PageResponse {
    static let contentSecurityPolicy =
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "frame-ancestors 'none'; form-action 'self'; base-uri 'none'; object-src 'none'"

    static func html(_ body: HTML, status: HTTPResponse.Status = .ok, started: ContinuousClock.Instant? = nil,
                      cookies: [Cookie] = []) -> Response {
        var headers = securityHeaders(started: started)
        headers[.contentType] = "text/html; charset=utf-8"
        var response = Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.description)))
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    /// 303 See Other: after a form (post/redirect/get) or to the login page.
    static func redirect(_ location: String, started: ContinuousClock.Instant? = nil, cookies: [Cookie] = []) -> Response {
        var headers = securityHeaders(started: started)
        headers[.location] = location
        var response = Response(status: .seeOther, headers: headers)
        for cookie in cookies { response.setCookie(cookie) }
        return response
    }

    static func asset(_ text: String, contentType: String) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = contentType
        headers[.cacheControl] = "public, max-age=3600"
        headers[.xContentTypeOptions] = "nosniff"
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(string: text)))
    }

    static func securityHeaders(started: ContinuousClock.Instant?) -> HTTPFields {
        var headers = HTTPFields()
        headers[.contentSecurityPolicy] = contentSecurityPolicy
        headers[.xFrameOptions] = "DENY"
        headers[.referrerPolicy] = "no-referrer"
        headers[.cacheControl] = "no-store"
        headers[.xContentTypeOptions] = "nosniff"
        if let started {
            let elapsed = ContinuousClock.now - started
            let ms = Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15
            headers[.serverTiming] = "app;dur=\(Escape.number(ms))"
        }
        return headers
    }
}

extension HTTPField.Name {
    static let contentSecurityPolicy = Self("Content-Security-Policy")!
    static let xFrameOptions = Self("X-Frame-Options")!
    static let referrerPolicy = Self("Referrer-Policy")!
    static let xContentTypeOptions = Self("X-Content-Type-Options")!
    static let serverTiming = Self("Server-Timing")!
}
