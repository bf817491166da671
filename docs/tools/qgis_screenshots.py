"""Screenshots of the urbanform QGIS plugin for docs/qgis.md (run under Xvfb).

    urbanform qgis-plugin /tmp/plugin
    xvfb-run -a -s "-screen 0 1280x1024x24" /usr/bin/python3 docs/tools/qgis_screenshots.py \
        docs/img /tmp/plugin/urbanform_qgis.zip /tmp/plugins [DATA_FOLDER]

DATA_FOLDER (optional) holds one GeoPackage per role (districts.gpkg, parks.gpkg, ...),
loaded into the project so that the dialog shows layers. QGIS Desktop's window is not
needed: a minimal stand-in for ``iface`` carries the Processing Toolbox and the dialog.
"""

import glob
import os
import sys
import zipfile

sys.path.append("/usr/share/qgis/python/plugins")
from qgis.core import QgsApplication, QgsProject, QgsVectorLayer  # noqa: E402
from qgis.PyQt.QtCore import QObject, QSize, pyqtSignal  # noqa: E402
from qgis.PyQt.QtWidgets import QMainWindow  # noqa: E402

app = QgsApplication([], True)
app.initQgis()
import qgis.utils  # noqa: E402
from qgis.gui import QgsMapCanvas, QgsMessageBar  # noqa: E402


class Iface(QObject):
    """Just enough of QgisInterface for the toolbox and the algorithm dialog."""

    currentLayerChanged = pyqtSignal(object)

    def __init__(self):
        super().__init__()
        self.win = QMainWindow()
        self.canvas = QgsMapCanvas(self.win)
        self.bar = QgsMessageBar()

    def mainWindow(self):  # noqa: N802, D102
        return self.win

    def mapCanvas(self):  # noqa: N802, D102
        return self.canvas

    def messageBar(self):  # noqa: N802, D102
        return self.bar

    def iconSize(self, dock=False):  # noqa: N802, D102
        return QSize(16, 16)

    def __getattr__(self, name):
        if name.startswith("_"):
            raise AttributeError(name)
        return lambda *args, **kwargs: None


def settle(n=30):
    """Let Qt lay out and paint."""
    for _ in range(n):
        app.processEvents()


def main(out, zip_path, plugins, data=None):
    """Install the plugin, then grab the toolbox and the park coverage dialog."""
    qgis.utils.iface = Iface()
    from processing.core.Processing import Processing

    Processing.initialize()
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(plugins)
    sys.path.insert(0, plugins)
    import urbanform_qgis

    plugin = urbanform_qgis.classFactory(qgis.utils.iface)
    plugin.initProcessing()
    layers = {}
    for path in sorted(glob.glob(os.path.join(data or "", "*.gpkg")) if data else []):
        role = os.path.splitext(os.path.basename(path))[0]
        layer = QgsVectorLayer(path, role, "ogr")
        QgsProject.instance().addMapLayer(layer)
        layers[role] = layer.id()

    from processing.gui.ProcessingToolbox import ProcessingToolbox

    toolbox = ProcessingToolbox()
    toolbox.resize(QSize(400, 330))
    toolbox.searchBox.setText("urbanform")
    toolbox.show()
    settle()
    toolbox.algorithmTree.expandAll()
    settle()
    toolbox.grab().save(os.path.join(out, "qgis-toolbox.png"))

    from processing.gui.AlgorithmDialog import AlgorithmDialog

    alg = QgsApplication.processingRegistry().createAlgorithmById("urbanform:park_coverage")
    dialog = AlgorithmDialog(alg, parent=qgis.utils.iface.mainWindow())
    dialog.setParameters({role.upper(): layer for role, layer in layers.items()
                          if alg.parameterDefinition(role.upper())})
    dialog.resize(QSize(900, 640))
    dialog.show()
    settle()
    dialog.grab().save(os.path.join(out, "qgis-park-coverage-dialog.png"))
    plugin.unload()


if __name__ == "__main__":
    main(*sys.argv[1:])
    app.exitQgis()
