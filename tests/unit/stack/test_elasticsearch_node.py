"""The Elasticsearch node's configuration."""

from __future__ import annotations

from pathlib import Path

import yaml

from stack.config import load_settings
from stack.elasticsearch_node import ES_VERSION, ElasticsearchNode, config_yml


def test_the_node_is_a_loopback_single_node_without_security(tmp_path: Path) -> None:
    s = load_settings({"STACK_HOME": str(tmp_path), "ELASTICSEARCH_HOST": "http://127.0.0.1:29200"})

    conf = yaml.safe_load(config_yml(s))

    assert conf["http.port"] == 29200
    assert conf["network.host"] == "127.0.0.1"
    assert conf["discovery.type"] == "single-node"
    assert conf["xpack.security.enabled"] is False
    assert conf["path.data"] == str(tmp_path / "elasticsearch/data")
    assert conf["node.store.allow_mmap"] is False


def test_the_install_directory_is_named_after_the_pinned_version(tmp_path: Path) -> None:
    node = ElasticsearchNode(load_settings({"STACK_HOME": str(tmp_path)}))

    assert node.install_dir == tmp_path / f"elasticsearch/elasticsearch-{ES_VERSION}"
    assert ES_VERSION.startswith("8.")
