"""scripts/notebooks --check: a committed notebook output that no longer matches a fresh run fails."""
import json
import os
import pathlib
import shutil
import subprocess
import tempfile
import unittest

SOURCE = pathlib.Path(os.environ.get("FLOWLIER_SOURCE_DIR", ".")).resolve()
SCRIPT = SOURCE / "scripts" / "notebooks"
PLOT_DATA = "application/vnd.flowlier.plot-data+json"


class NotebookCheckTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.notebooks = pathlib.Path(self.dir.name) / "notebooks"
        shutil.copytree(SOURCE / "notebooks", self.notebooks)
        self.path = self.notebooks / "nab_results.ipynb"
        self.nb = json.loads(self.path.read_text())

    def tearDown(self):
        self.dir.cleanup()

    def check(self):
        return subprocess.run(["/usr/bin/python3", str(SCRIPT), "--check", "--dir", str(self.notebooks), "nab_results"],
                              capture_output=True, text=True, timeout=300)

    def outputs(self):
        return [o for c in self.nb["cells"] if c["cell_type"] == "code" for o in c["outputs"]]

    def save(self):
        self.path.write_text(json.dumps(self.nb, indent=1))

    def test_volatile_fields_do_not_matter(self):
        for cell in self.nb["cells"]:
            if cell["cell_type"] == "code":
                cell["execution_count"] = 99
        for o in self.outputs():
            if "image/png" in o.get("data", {}):
                o["data"]["image/png"] = "iVBORw0KGgo="
            if "execution_count" in o:
                o["execution_count"] = 99
        self.save()
        result = self.check()
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("committed outputs match a fresh run", result.stdout)

    def test_stale_text_fails_and_shows_the_difference(self):
        stream = next(o for o in self.outputs() if o["output_type"] == "stream")
        stream["text"] = "flowlier - 57 files, 116 windows\n"
        self.save()
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("stale", result.stderr)
        self.assertIn("-flowlier - 57 files, 116 windows", result.stderr)
        self.assertIn("+flowlier - 58 files, 116 windows", result.stderr)
        self.assertIn("make notebooks-update", result.stderr)

    def test_stale_plot_data_fails(self):
        figure = next(o for o in self.outputs() if PLOT_DATA in o.get("data", {}))
        figure["data"][PLOT_DATA]["axes"][0]["patches"][0]["sha256"] = "0000000000000000"
        self.save()
        result = self.check()
        self.assertEqual(result.returncode, 1)
        self.assertIn("\"sha256\": \"0000000000000000\"", result.stderr)
        self.assertIn("committed cell 4", result.stderr)

    def test_missing_outputs_fail(self):
        for cell in self.nb["cells"]:
            if cell["cell_type"] == "code":
                cell["outputs"] = []
        self.save()
        self.assertEqual(self.check().returncode, 1)

    def test_a_detection_change_makes_the_evaluation_stale(self):
        # A stand-in binary whose replay loses its beaconing events, as a change to
        # detection might: the committed recall and per-incident table no longer hold.
        real = pathlib.Path(os.environ["FLOWLIER_BINARY"]).resolve()
        wrapper = pathlib.Path(self.dir.name) / "flowlier"
        wrapper.write_text(f"""#!/bin/bash
"{real}" "$@"; rc=$?
if [ "$1" = replay ]; then
  args=("$@"); for i in "${{!args[@]}}"; do [ "${{args[$i]}}" = --out ] && out=${{args[$((i+1))]}}; done
  [ -n "${{out:-}}" ] && sed -i '/"beaconing"/d' "$out"
fi
exit $rc
""")
        wrapper.chmod(0o755)
        result = subprocess.run(["/usr/bin/python3", str(SCRIPT), "--check", "--dir", str(self.notebooks), "evaluation"],
                                capture_output=True, text=True, timeout=300,
                                env={**os.environ, "FLOWLIER_BINARY": str(wrapper)})
        self.assertEqual(result.returncode, 1, result.stderr)
        self.assertIn("stale", result.stderr)
        self.assertRegex(result.stderr, r"\+inc-05 beacon +missed")


if __name__ == "__main__":
    unittest.main()
