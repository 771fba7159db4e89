import HTTPTypes
import Hummingbird

/// `GET /metrics`: ``GatewayMetrics`` in Prometheus text format. No authentication: bind
/// the HTTP listener to a private address or filter `/metrics` at the edge.
struct MetricsController: Sendable {
    let metrics: GatewayMetrics

    var routes: RouteCollection<GatewayRequestContext> {
        let routes = RouteCollection(context: GatewayRequestContext.self)
        routes.get("metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                     body: ResponseBody(byteBuffer: ByteBuffer(string: self.metrics.render())))
        }
        return routes
    }
}
