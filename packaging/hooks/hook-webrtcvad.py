# The contrib hook copies the metadata of "webrtcvad"; we install the "webrtcvad-wheels" distribution.
from PyInstaller.utils.hooks import copy_metadata

datas = copy_metadata("webrtcvad-wheels")
