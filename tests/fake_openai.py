"""A fake OpenAI-compatible chat endpoint on localhost, for testing the openai backend offline.

It reads the caption and target out of Slipform's prompt and answers by behaviour keyed on
words in the caption: normally it swaps the target for a word of the same kind
(:func:`slipform.plant.knowledge.kinds.same_kind`, "zebra" for a word of no known kind); "flaky" fails with HTTP 500
on the first request for that caption; "chatty" answers with an explanation instead of a
caption; "lazy" returns the caption unchanged; "flurb" (no word, so never a target) puts "sandwich" for any object (a word
of another kind) and answers the caption unchanged for anything else; "broken" always answers HTTP 503.
"""

from __future__ import annotations

import json
import re
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from slipform.plant.knowledge.kinds import same_kind


class FakeChat:
    def __init__(self):
        self.requests = Counter()
        self.auth = []
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()

    def _handler(self):
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.auth.append(self.headers.get("Authorization"))
                if [m.get("role") for m in body["messages"]] != ["system", "user"]:
                    self.send_response(400)  # as a real endpoint answers an unknown role
                    self.end_headers()
                    return
                prompt = body["messages"][-1]["content"]
                caption = re.search(r"Caption: (.*)\n", prompt).group(1)
                role, target = re.search(r'Target (\w+): "(.*)"', prompt).groups()
                fake.requests[caption] += 1
                if "broken" in caption or ("flaky" in caption and fake.requests[caption] == 1):
                    self.send_response(503 if "broken" in caption else 500)
                    self.end_headers()
                    return
                if "chatty" in caption:
                    answer = "Sure! Here is a caption where I changed the concept as you asked, keeping the rest."
                elif "lazy" in caption or ("flurb" in caption and role != "object"):
                    answer = caption
                elif "flurb" in caption:
                    answer = re.sub(rf"\b{re.escape(target)}\b", "sandwich", caption, count=1)
                else:
                    kin = same_kind(target.lower())
                    answer = "New caption: " + re.sub(rf"\b{re.escape(target)}\b", kin[0] if kin else "zebra",
                                                      caption, count=1)
                payload = {"choices": [{"message": {"role": "assistant", "content": answer}}]}
                data = json.dumps(payload).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        return Handler
