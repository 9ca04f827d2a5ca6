"""A small OTLP/HTTP (protobuf) receiver standing in for the collector in tests.

It accepts `POST /v1/traces` and `POST /v1/metrics`, decodes them with the
`opentelemetry-proto` package and keeps what arrived: spans (service, trace id, name,
kind, attributes) and metric data points (service, metric name, attributes).
"""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


def _value(any_value):
    kind = any_value.WhichOneof("value")
    return getattr(any_value, kind) if kind else None


def _attributes(pairs):
    return {kv.key: _value(kv.value) for kv in pairs}


def _service(resource):
    return _attributes(resource.attributes).get("service.name")


class Received:
    """What the receiver got, shared by its request threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []
        self.points = []

    def add_traces(self, body):
        request = trace_service_pb2.ExportTraceServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            for resource_spans in request.resource_spans:
                service = _service(resource_spans.resource)
                for scope in resource_spans.scope_spans:
                    for span in scope.spans:
                        self.spans.append({
                            "service": service,
                            "trace_id": span.trace_id.hex(),
                            "span_id": span.span_id.hex(),
                            "parent_id": span.parent_span_id.hex(),
                            "name": span.name,
                            "kind": span.kind,
                            "attributes": _attributes(span.attributes),
                        })

    def add_metrics(self, body):
        request = metrics_service_pb2.ExportMetricsServiceRequest()
        request.ParseFromString(body)
        with self.lock:
            for resource_metrics in request.resource_metrics:
                service = _service(resource_metrics.resource)
                for scope in resource_metrics.scope_metrics:
                    for metric in scope.metrics:
                        kind = metric.WhichOneof("data")
                        for point in getattr(metric, kind).data_points:
                            self.points.append({
                                "service": service,
                                "name": metric.name,
                                "unit": metric.unit,
                                "kind": kind,
                                "attributes": _attributes(point.attributes),
                            })

    def snapshot(self):
        with self.lock:
            return list(self.spans), list(self.points)


def serve(port=0):
    """Starts a receiver on 127.0.0.1:`port`; returns (server, received)."""
    received = Received()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.path == "/v1/traces":
                received.add_traces(body)
                answer = trace_service_pb2.ExportTraceServiceResponse()
            elif self.path == "/v1/metrics":
                received.add_metrics(body)
                answer = metrics_service_pb2.ExportMetricsServiceResponse()
            else:
                self.send_error(404)
                return
            payload = answer.SerializeToString()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, received
