"""Drive the urbanform QGIS plugin in headless QGIS (run by /usr/bin/python3, not pytest).

``python3 qgis_plugin_driver.py JOB.json`` installs the plugin zip into a temporary plugin
folder, registers its provider, runs the calls of the job through ``processing.run`` and
prints one line ``JSON:{...}`` with what QGIS saw. Only the standard library is imported at
module level, so pytest's doctest collection can import this file without QGIS.
"""

import json
import os
import sys
import time
import zipfile


def _layer_value(spec, project):
    from qgis.core import QgsFeatureRequest, QgsVectorLayer

    layer = QgsVectorLayer(spec["source"], spec.get("name", "layer"), "ogr")
    if not layer.isValid():
        raise RuntimeError("invalid test layer " + spec["source"])
    if spec.get("memory"):
        layer = layer.materialize(QgsFeatureRequest())
        layer.setName(spec.get("name", "layer"))
    project.addMapLayer(layer)
    return layer.id()


def _feedback_class():
    from qgis.core import QgsProcessingFeedback

    class Feedback(QgsProcessingFeedback):
        def __init__(self, cancel_on=None):
            super().__init__()
            self.cancel_on, self.log, self.texts, self.percents = cancel_on, [], [], []
            self.progressChanged.connect(self.percents.append)

        def setProgressText(self, text):  # noqa: N802
            self.texts.append(text)
            if self.cancel_on and self.cancel_on in text:
                self.cancel()
            super().setProgressText(text)

        def pushInfo(self, info):  # noqa: N802
            self.log.append(info)

        def pushConsoleInfo(self, info):  # noqa: N802
            self.log.append(info)

        def reportError(self, error, fatalError=False):  # noqa: N802, N803
            self.log.append("ERROR " + error)

    return Feedback


def _pid(log):
    for line in log:
        if line.startswith("urbanform process id "):
            return int(line.rsplit(" ", 1)[1])
    return None


def _alive(pid):
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split()[2] != "Z"
    except OSError:
        return False


def _environment(call):
    """Apply a call's ``env`` (None removes a variable) and provider ``setting``."""
    from processing.core.ProcessingConfig import ProcessingConfig

    for key, value in call.get("env", {}).items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value
    ProcessingConfig.setSettingValue("URBANFORM_EXE", call.get("setting", ""))


def _call(call, project):
    import processing
    from qgis.core import QgsProcessingContext, QgsProcessingException

    _environment(call)
    params = {}
    for key, value in call["params"].items():
        params[key] = _layer_value(value, project) if isinstance(value, dict) else value
    feedback = _feedback_class()(call.get("cancel_on"))
    context = QgsProcessingContext()
    context.setProject(project)
    out = {"ok": True, "params": {k: v for k, v in call["params"].items()
                                  if isinstance(v, str)}}
    t0 = time.time()
    alg = call["alg"]
    if call.get("model"):
        from qgis.core import QgsProcessingModelAlgorithm

        alg = QgsProcessingModelAlgorithm()
        if not alg.fromFile(call["model"]):
            raise RuntimeError("cannot read model " + call["model"])
    try:
        results = processing.run(alg, params, feedback=feedback, context=context)
        out["results"] = {k: v for k, v in results.items() if isinstance(v, (int, float, str))}
    except QgsProcessingException as exc:
        out["ok"], out["error"] = False, str(exc)
    out["seconds"] = time.time() - t0
    out["to_load"] = {}
    for layer_id, details in context.layersToLoadOnCompletion().items():
        layer = context.getMapLayer(layer_id)
        out["to_load"][details.name] = layer.renderer().type() if layer else None
    out["canceled"] = feedback.isCanceled()
    out["log"], out["texts"], out["percents"] = feedback.log, feedback.texts, feedback.percents
    out["pid"] = _pid(feedback.log)
    out["alive_after"] = _alive(out["pid"])
    return out


def _open_gpkg(path):
    """Open every layer of a GeoPackage; return QGIS's and GDAL's messages meanwhile.

    QGIS Desktop shows GDAL's warnings in its log panel; headless they would go to
    stderr, so GDAL's error handler is taken over here as well.
    """
    from osgeo import gdal
    from qgis.core import QgsApplication, QgsVectorLayer

    messages = []

    def keep(message, tag, level):
        messages.append(f"{tag}: {message}")

    def keep_gdal(err_class, err_no, message):
        messages.append(f"GDAL: {message}")

    QgsApplication.messageLog().messageReceived.connect(keep)
    gdal.PushErrorHandler(keep_gdal)
    try:
        layer = QgsVectorLayer(path, "all", "ogr")
        names = [s.split("!!::!!")[1] for s in layer.dataProvider().subLayers()]
        valid = {}
        for name in names:
            lyr = QgsVectorLayer(f"{path}|layername={name}", name, "ogr")
            valid[name] = lyr.isValid() and lyr.featureCount() >= 0
            QgsApplication.processEvents()
    finally:
        gdal.PopErrorHandler()
        QgsApplication.messageLog().messageReceived.disconnect(keep)
    return {"layers": valid, "messages": messages}


def main(job_path):
    """Run the job in ``job_path``; print the result as one JSON line."""
    with open(job_path, encoding="utf-8") as f:
        job = json.load(f)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    sys.path.append("/usr/share/qgis/python/plugins")
    from qgis.core import QgsApplication, QgsProject

    app = QgsApplication([], False)
    app.initQgis()
    from processing.core.Processing import Processing

    Processing.initialize()
    with zipfile.ZipFile(job["zip"]) as zf:
        zf.extractall(job["plugins"])
    sys.path.insert(0, job["plugins"])
    import urbanform_qgis

    plugin = urbanform_qgis.classFactory(None)  # kept: the provider lives as long as it
    plugin.initProcessing()
    registry = QgsApplication.processingRegistry()
    provider = registry.providerById("urbanform")
    result = {"provider": provider is not None and provider.id(),
              "algorithms": sorted(a.id() for a in provider.algorithms()) if provider else []}
    if job.get("dialog_params"):
        alg = registry.algorithmById(job["dialog_params"])
        result["dialog_params"] = [
            {"name": p.name(), "type": p.type(), "default": p.defaultValue(),
             "optional": bool(p.flags() & p.FlagOptional)}
            for p in alg.parameterDefinitions()]
    project = QgsProject.instance()
    result["calls"] = [_call(call, project) for call in job.get("calls", [])]
    result["open_gpkg"] = {path: _open_gpkg(path) for path in job.get("open_gpkg", [])}
    print("JSON:" + json.dumps(result, default=str))
    sys.stdout.flush()
    plugin.unload()
    app.exitQgis()


if __name__ == "__main__":
    main(sys.argv[1])
