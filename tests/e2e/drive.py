#!/usr/bin/env python3
"""Drives `runner ui` in a real headless Chromium over the DevTools protocol.

Standard library only: Chromium is started with --remote-debugging-pipe, so the protocol
runs over two pipes (file descriptors 3 and 4, NUL-separated JSON) and no WebSocket client
is needed. Called by tests/integration/ui.rs with the page's URL, an input CSV and a folder
for screenshots; prints one JSON object of what it saw for the test to assert on.

    drive.py URL CSV SCREENSHOT_DIR
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time


class Browser:
    def __init__(self):
        exe = shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")
        if not exe:
            sys.exit("chromium not found: install it (apt-get install chromium)")
        self.profile = tempfile.mkdtemp(prefix="runner-e2e-")
        to_chrome_r, self.to_chrome = os.pipe()
        self.from_chrome, from_chrome_w = os.pipe()
        # Chromium reads commands on fd 3 and writes answers on fd 4.
        def wire():
            os.dup2(to_chrome_r, 3)
            os.dup2(from_chrome_w, 4)
        self.proc = subprocess.Popen(
            [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
             "--disable-background-networking", "--disable-component-update", "--disable-sync",
             "--remote-debugging-pipe", f"--user-data-dir={self.profile}", "--window-size=1280,900",
             "about:blank"],
            pass_fds=(3, 4), preexec_fn=wire,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        os.close(to_chrome_r)
        os.close(from_chrome_w)
        self.buffer = b""
        self.next_id = 0
        self.session = None

    def send(self, method, params=None, session=True):
        self.next_id += 1
        message = {"id": self.next_id, "method": method, "params": params or {}}
        if session and self.session:
            message["sessionId"] = self.session
        os.write(self.to_chrome, json.dumps(message).encode() + b"\0")
        while True:
            reply = self.read()
            if reply.get("id") == self.next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method}: {reply['error']}")
                return reply.get("result", {})

    def read(self):
        while b"\0" not in self.buffer:
            chunk = os.read(self.from_chrome, 1 << 16)
            if not chunk:
                raise RuntimeError("chromium closed the pipe")
            self.buffer += chunk
        message, self.buffer = self.buffer.split(b"\0", 1)
        return json.loads(message)

    def open(self, url):
        target = self.send("Target.createTarget", {"url": "about:blank"}, session=False)
        attached = self.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}, session=False)
        self.session = attached["sessionId"]
        self.send("Page.enable")
        self.send("Runtime.enable")
        self.send("Emulation.setDeviceMetricsOverride", {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False})
        self.send("Page.navigate", {"url": url})
        self.wait("document.readyState === 'complete' && document.querySelector('#job-list button') !== null")

    def js(self, expression):
        result = self.send("Runtime.evaluate", {"expression": expression, "awaitPromise": True, "returnByValue": True})
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait(self, condition, timeout=30):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.js(f"Boolean({condition})"):
                return
            time.sleep(0.1)
        raise RuntimeError(f"timed out waiting for {condition}; page text: {self.js('document.body.innerText')[:2000]}")

    def click(self, selector):
        self.js(f"document.querySelector({json.dumps(selector)}).click()")

    def set_file(self, selector, path):
        root = self.send("DOM.getDocument")["root"]["nodeId"]
        node = self.send("DOM.querySelector", {"nodeId": root, "selector": selector})["nodeId"]
        self.send("DOM.setFileInputFiles", {"nodeId": node, "files": [path]})

    def screenshot(self, path):
        data = self.send("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": False})["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))

    def close(self):
        try:
            self.send("Browser.close", session=False)
        except Exception:
            pass
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
        shutil.rmtree(self.profile, ignore_errors=True)


def main():
    url, csv_path, shots = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    os.makedirs(shots, exist_ok=True)
    seen = {}
    b = Browser()
    try:
        b.open(url)
        # The server was started with --sandbox: already connected; the form comes back on
        # demand, and connecting to the sandbox again keeps the same org.
        b.wait("document.querySelector('#connection').textContent.startsWith('Connected to')")
        b.click("#show-connect")
        b.wait("!document.querySelector('#connect-section').hidden")
        b.click("#connect")
        b.wait("document.querySelector('#connect-section').hidden")
        b.wait("document.querySelector('#connection').textContent.startsWith('Connected to')")
        seen["connection"] = b.js("document.querySelector('#connection').textContent")
        # The page's own origin without the token is refused too.
        seen["without_token"] = b.js("fetch('/api/state').then(r => r.status)")
        seen["groups"] = b.js("[...document.querySelectorAll('#job-list h2')].map(h => h.textContent)")
        seen["unlabelled_controls"] = b.js(
            "[...document.querySelectorAll('input, select')].filter(i => i.type !== 'radio' && i.type !== 'hidden'"
            " && !document.querySelector(`label[for='${i.id}']`) && !i.getAttribute('aria-label')).map(i => i.id)")
        # create-customers from an uploaded CSV: check, plan, run.
        b.click("button[data-job='create-customers.yaml']")
        b.wait("document.querySelector('#job-title').textContent === 'create-customers'")
        b.set_file("#input-file", csv_path)
        b.click("#check")
        b.wait("document.querySelector('#check-result').textContent.includes('no problems')")
        b.click("#plan")
        b.wait("document.querySelector('#plan-result table') !== null")
        seen["plan_text"] = b.js("document.querySelector('#plan-result').innerText")
        b.js("document.querySelector('#job-title').scrollIntoView()")
        b.screenshot(os.path.join(shots, "ui-plan.png"))
        b.click("#run")
        b.wait("document.querySelector('#run-result').textContent.includes('Finished')", timeout=60)
        b.wait("document.querySelector('#results table') !== null")
        seen["run_text"] = b.js("document.querySelector('#run-result').innerText")
        seen["results_rows"] = b.js("document.querySelectorAll('#results tbody tr').length")
        b.js("document.querySelector('#run-result').scrollIntoView()")
        b.screenshot(os.path.join(shots, "ui-run.png"))
        # What the download link gives, fetched as the browser would.
        href = b.js("document.querySelector('#run-result a').getAttribute('href')")
        seen["results_csv"] = b.js(f"fetch({json.dumps(href)}).then(r => r.text())")
        # Filter the results table by outcome.
        b.js("const s = document.querySelector('#result-filter'); s.value = 'rejected'; s.dispatchEvent(new Event('change'))")
        b.wait("document.querySelector('#results p').textContent.startsWith('1 line')")
        seen["rejected_rows"] = b.js("document.querySelectorAll('#results tbody tr').length")
        # A destructive job asks first and runs nothing until confirmed.
        b.click("button[data-job='delete-customers.yaml']")
        b.wait("document.querySelector('#job-title').textContent === 'delete-customers'")
        b.wait("!document.querySelector('#job-destructive').hidden")
        b.set_file("#input-file", csv_path)
        b.click("#run")
        b.wait("!document.querySelector('#confirm-box').hidden")
        seen["confirm_text"] = b.js("document.querySelector('#confirm-text').textContent")
        seen["focused"] = b.js("document.activeElement.id")
        b.js("document.querySelector('#job-title').scrollIntoView()")
        b.screenshot(os.path.join(shots, "ui-confirm.png"))
        b.click("#confirm-no")
        token = b.js("new URLSearchParams(location.search).get('t')")
        seen["runs_after_refusal"] = b.js(
            f"fetch('/api/runs', {{headers: {{'x-runner-token': {json.dumps(token)}}}}}).then(r => r.json()).then(r => r.length)")
    finally:
        b.close()
    print(json.dumps(seen))


if __name__ == "__main__":
    main()
