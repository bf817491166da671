#!/usr/bin/env bash
# Install QGIS's Python bindings (Debian 12: QGIS 3.22) for tests/test_qgis.py.
#
# QGIS's Python is the system python (/usr/bin/python3), not the project's virtualenv;
# the tests run a small script with it in a subprocess. Idempotent; never fails the CI
# job: when apt cannot install the packages the QGIS tests are skipped, the rest still run.
set -u

PACKAGES="python3-qgis qgis-providers"

probe() {
    QT_QPA_PLATFORM=offscreen /usr/bin/python3 -c "import qgis.core" >/dev/null 2>&1
}

if probe; then
    echo "install-qgis: qgis.core already importable by /usr/bin/python3; nothing to do"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1; then
        SUDO="sudo"
    else
        echo "install-qgis: not root and no sudo; QGIS tests will be skipped"
        exit 0
    fi
fi

export DEBIAN_FRONTEND=noninteractive
start=$(date +%s)
if ! $SUDO apt-get update; then
    echo "install-qgis: apt-get update failed; QGIS tests will be skipped"
    exit 0
fi
# shellcheck disable=SC2086
if ! $SUDO apt-get install -y --no-install-recommends $PACKAGES; then
    echo "install-qgis: apt-get install $PACKAGES failed; QGIS tests will be skipped"
    exit 0
fi
end=$(date +%s)

if probe; then
    echo "install-qgis: installed $PACKAGES in $((end - start)) s"
else
    echo "install-qgis: $PACKAGES installed but 'import qgis.core' fails; QGIS tests will be skipped"
fi
exit 0
