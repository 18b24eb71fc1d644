"""A second city profile for the tests (raw/reference/city.yaml): another city's names, a
60-second threshold, an 85% target, 10-second short abandons, a 24-hour e-mail standard,
America/Vancouver with British Columbia's holidays."""

VANCOUVER = """\
city: City of Vancouver
service: 311 Vancouver
division: Service Experience Branch
timezone: America/Vancouver
holidays: {country: CA, subdivision: BC}
standards:
  phone_service_level_seconds: 60
  phone_service_level_target: 0.85
  short_abandon_seconds: 10
  email_acknowledgement_hours: 24
mail: {from: "311 Vancouver <311@vancouver.example>", reply_to: null}
"""
