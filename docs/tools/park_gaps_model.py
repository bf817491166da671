"""Write docs/qgis/park_gaps.model3, the model example of docs/qgis.md.

    /usr/bin/python3 docs/tools/park_gaps_model.py docs/qgis/park_gaps.model3

Inputs: districts (with a ``name`` field), parks, population (``population`` field) and a
target share. ``urbanform:park_coverage`` runs on them; ``native:extractbyexpression``
keeps the districts whose ``pop_share`` is below the target: the model's output.
"""

import os
import sys

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.append("/usr/share/qgis/python/plugins")
from qgis.PyQt.QtCore import QPointF  # noqa: E402
from qgis.core import (  # noqa: E402
    QgsApplication,
    QgsProcessingModelAlgorithm,
    QgsProcessingModelChildAlgorithm,
    QgsProcessingModelChildParameterSource as Source,
    QgsProcessingModelOutput,
    QgsProcessingModelParameter,
    QgsProcessingParameterField,
    QgsProcessingParameterNumber,
    QgsProcessingParameterVectorLayer,
)


def build():
    """The model: park coverage, then the districts short of the target."""
    model = QgsProcessingModelAlgorithm("Districts short of park coverage", "urbanform")
    inputs = [
        QgsProcessingParameterVectorLayer("districts", "Districts"),
        QgsProcessingParameterField("district_name", "District name field", "name",
                                    "districts"),
        QgsProcessingParameterVectorLayer("parks", "Parks"),
        QgsProcessingParameterVectorLayer("population", "Population"),
        QgsProcessingParameterField("population_field", "Population field", "population",
                                    "population"),
        QgsProcessingParameterNumber("target", "Target share of residents",
                                     QgsProcessingParameterNumber.Double, 0.9, False, 0, 1),
    ]
    for i, param in enumerate(inputs):
        component = QgsProcessingModelParameter(param.name())
        component.setPosition(QPointF(120, 60 + 70 * i))
        model.addModelParameter(param, component)

    park = QgsProcessingModelChildAlgorithm("urbanform:park_coverage")
    park.setChildId("park_coverage")
    park.setDescription("Park coverage on layers")
    park.setPosition(QPointF(420, 180))
    for name, source in {
        "DISTRICTS": "districts", "DISTRICTS_NAME": "district_name", "PARKS": "parks",
        "POPULATION": "population", "POPULATION_POPULATION": "population_field",
    }.items():
        park.addParameterSources(name, [Source.fromModelParameter(source)])
    park.addParameterSources("DISTANCE", [Source.fromStaticValue(0)])  # euclidean
    model.addChildAlgorithm(park)

    short = QgsProcessingModelChildAlgorithm("native:extractbyexpression")
    short.setChildId("short")
    short.setDescription("Districts below the target")
    short.setPosition(QPointF(420, 330))
    short.addParameterSources("INPUT", [Source.fromChildOutput("park_coverage", "DISTRICTS")])
    short.addParameterSources("EXPRESSION", [Source.fromExpression(
        "'\"pop_share\" < ' || to_string(@target)")])
    output = QgsProcessingModelOutput("short_districts", "Districts short of the target")
    output.setChildOutputName("OUTPUT")
    output.setPosition(QPointF(620, 420))
    short.setModelOutputs({"short_districts": output})
    short.setDependencies([])
    model.addChildAlgorithm(short)
    return model


if __name__ == "__main__":
    app = QgsApplication([], False)
    app.initQgis()
    if not build().toFile(sys.argv[1]):
        sys.exit("cannot write " + sys.argv[1])
    app.exitQgis()
