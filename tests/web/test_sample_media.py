"""The sample media the new-project preview uses are shipped, small and served by the app."""

import io
import wave

import pytest
from flask.testing import FlaskClient
from PIL import Image

from labelops.domain.label_config import parse_label_config, sample_task_data
from labelops.templates_gallery import get_template

SAMPLES = {
    "sample-1.png": "image/png",
    "sample-2.png": "image/png",
    "sample-1.wav": "audio/",
    "sample-1.webm": "video/webm",
    "sample-1.csv": "text/csv",
}


@pytest.mark.parametrize(("name", "content_type"), SAMPLES.items())
def test_sample_is_served_and_small(client: FlaskClient, name: str, content_type: str) -> None:
    response = client.get(f"/static/samples/{name}")
    assert response.status_code == 200
    assert response.mimetype.startswith(content_type)
    assert 0 < len(response.data) <= 16 * 1024
    if name.endswith(".png"):
        assert Image.open(io.BytesIO(response.data)).size == (640, 480)
    if name.endswith(".wav"):
        with wave.open(io.BytesIO(response.data)) as clip:
            assert clip.getnframes() / clip.getframerate() == 1.0
    if name.endswith(".webm"):
        assert response.data.startswith(b"\x1a\x45\xdf\xa3") and b"V_VP8" in response.data
    if name.endswith(".csv"):
        header = response.data.decode().splitlines()[0].split(",")
        assert {"time", "temperature", "pressure"} <= set(header)


def test_sample_data_of_media_templates_points_at_the_app() -> None:
    for name in (
        "image_classification",
        "audio_transcription",
        "video_classification",
        "time_series_events",
    ):
        template = get_template(name)
        assert template is not None
        data = sample_task_data(parse_label_config(template.label_config))
        urls = [v for v in data.values() if isinstance(v, str) and "sample-" in v]
        assert urls and all(url.startswith("/static/samples/") for url in urls), data
